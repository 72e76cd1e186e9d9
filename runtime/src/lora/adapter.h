// An adapter in the model's memory: per layer and projection, rank r, A (r x n_in) and
// B (n_out x r) as rows of F32, or of F16 / BF16 when the file holds them so (kept exact:
// half the bytes a batched decode reads per session); rank 0 leaves the projection as it is. Slots are planned with
// the model (max_adapters of them, each for ranks up to max_rank), so loading, switching
// and unloading never touch the heap or move memory a forward pass reads.
#pragma once
#include "core/bump.h"
#include "format/model_file.h"
#include "lora/lora.h"

#include <cstddef>
#include <cstdint>

namespace sm::lora {

struct AdapterFile;

struct Pair {
    int32_t rank = 0;
    TensorType type = TensorType::F32; // of a and b: F32, F16 or BF16
    void *a = nullptr;                 // rank rows of n_in
    void *b = nullptr;                 // n_out rows of rank
};

struct Adapter {
    float alpha = 0.0f;
    int32_t n_layers = 0, max_rank = 0, rank = 0; // rank: the largest of the loaded pairs
    Pair *pairs = nullptr;                        // n_layers * kTargets, layer-major
    const Pair &pair(int layer, Target t) const { return pairs[layer * kTargets + static_cast<int>(t)]; }
    Pair &pair(int layer, Target t) { return pairs[layer * kTargets + static_cast<int>(t)]; }
};

// Lays out (or measures, see core/bump.h) one slot for ranks up to max_rank.
void layout_slot(const Hparams &hp, int max_rank, Bump &b, Adapter &out);
inline size_t slot_bytes(const Hparams &hp, int max_rank) {
    Bump m = Bump::measuring();
    Adapter a;
    layout_slot(hp, max_rank, m, a);
    return m.used;
}
// Copies a validated file into a slot (its ranks must fit max_rank); false on a value
// that cannot be read (the file validated its types, so only a bug gets there).
bool fill_slot(const AdapterFile &f, Adapter &a);

// How a forward pass applies an adapter to a batch segment's rows.
struct Use {
    const Adapter *adapter = nullptr;
    float scale = 1.0f; // the user's scale; alpha / rank is applied on top
};
constexpr int kMaxUses = 4; // adapters one session may apply at once (their deltas add up)

} // namespace sm::lora
