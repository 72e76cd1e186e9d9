#include "lora/adapter.h"
#include "lora/adapter_file.h"

#include <cstring>

namespace sm::lora {

void layout_slot(const Hparams &hp, int max_rank, Bump &b, Adapter &out) {
    out = Adapter{};
    out.n_layers = hp.n_layers;
    out.max_rank = max_rank;
    out.pairs = b.take_n<Pair>(static_cast<size_t>(hp.n_layers) * kTargets);
    for (int l = 0; l < hp.n_layers; l++)
        for (int t = 0; t < kTargets; t++) {
            const Shape s = target_shape(hp, static_cast<Target>(t));
            float *a = b.take_n<float>(static_cast<size_t>(max_rank) * s.n_in);
            float *bb = b.take_n<float>(static_cast<size_t>(max_rank) * s.n_out);
            if (out.pairs) out.pairs[l * kTargets + t] = Pair{0, TensorType::F32, a, bb};
        }
}

bool fill_slot(const AdapterFile &f, Adapter &a) {
    for (int i = 0; i < a.n_layers * kTargets; i++) a.pairs[i].rank = 0;
    a.alpha = f.alpha;
    a.rank = 0;
    for (const PairSource &p : f.pairs) {
        if (p.rank > a.max_rank || p.layer >= a.n_layers) return false;
        Pair &dst = a.pair(p.layer, p.target);
        // 16-bit values as they are when both halves share the type (exact, half the
        // bytes); anything else as floats.
        const bool half = p.a.type == p.b.type && (p.a.type == TensorType::F16 || p.a.type == TensorType::BF16);
        if (half) {
            memcpy(dst.a, p.a.data, p.a.bytes);
            memcpy(dst.b, p.b.data, p.b.bytes);
            dst.type = p.a.type;
        } else {
            if (!pair_floats(p, static_cast<float *>(dst.a), static_cast<float *>(dst.b))) return false;
            dst.type = TensorType::F32;
        }
        dst.rank = p.rank;
        if (p.rank > a.rank) a.rank = p.rank;
    }
    return true;
}

} // namespace sm::lora
