#include "lora/merge.h"
#include "format/gguf_write.h"
#include "format/model_file.h"
#include "lora/adapter_file.h"
#include "quant/quant.h"

#include <cstring>
#include <memory>
#include <string>

namespace sm::lora {

namespace {

// general.file_type for a model whose matrices are all of type t (llama.cpp's ftype).
int file_type_of(TensorType t) {
    switch (t) {
    case TensorType::F32: return 0;
    case TensorType::F16: return 1;
    case TensorType::Q4_0: return 2;
    case TensorType::Q8_0: return 7;
    case TensorType::Q4_K: return 15;
    case TensorType::Q6_K: return 18;
    case TensorType::BF16: return 32;
    default: return -1;
    }
}

// The (adapter, pair) terms that change one base tensor.
struct Term {
    const PairSource *pair;
    float scale;
};

} // namespace

sm_status merge_into_gguf(const char *base_path, const std::vector<MergeAdapter> &adapters, const char *out_path,
                          const TensorType *matrix_type, Error &err) {
    ModelFile base;
    SM_TRY(open_model_file(base_path, nullptr, base, err));
    if (base.kind != FileKind::GGUF)
        return err.set(SM_ERR_UNSUPPORTED,
                       "%s: merging needs a GGUF base (convert the llama2.c checkpoint first: smallmind convert)", base_path);
    if (matrix_type && (!quant::type_convertible(*matrix_type) || file_type_of(*matrix_type) < 0))
        return err.set(SM_ERR_INVALID_ARGUMENT, "cannot write matrices as %s", type_traits(*matrix_type).name);
    std::vector<std::unique_ptr<AdapterFile>> files;
    for (const MergeAdapter &m : adapters) {
        files.push_back(std::make_unique<AdapterFile>());
        SM_TRY(open_adapter_file(m.path, base.hp, *files.back(), err));
    }
    const gguf::File &g = base.gguf;
    gguf::Writer w;
    for (const gguf::KeyValue &kv : g.kv) {
        if (matrix_type && kv.key == "general.file_type") continue;
        if (kv.key == "general.alignment") continue; // the writer aligns to its own default
        if (!w.copy(kv))
            return err.set(SM_ERR_UNSUPPORTED, "%s: key '%.*s' holds nested arrays", base_path, (int)kv.key.size(),
                           kv.key.data());
    }
    if (matrix_type) w.set_u32("general.file_type", static_cast<uint32_t>(file_type_of(*matrix_type)));
    const uint8_t *data = base.map.data();
    for (const gguf::TensorInfo &t : g.tensors) {
        std::vector<Term> terms;
        const std::string name(t.name);
        for (size_t i = 0; i < files.size(); i++)
            for (const PairSource &p : files[i]->pairs) {
                char bn[96];
                base_tensor_name(p.layer, p.target, bn, sizeof bn);
                if (name == bn) terms.push_back({&p, effective_scale(files[i]->alpha, p.rank, adapters[i].scale)});
            }
        const TensorType in_type = static_cast<TensorType>(t.type);
        const bool matrix = t.ne[1] > 1 && t.ne[2] == 1 && t.ne[3] == 1;
        TensorType out_type = in_type;
        if (matrix && matrix_type && row_bytes(*matrix_type, t.ne[0]) != 0) out_type = *matrix_type;
        std::vector<int64_t> ne(t.ne, t.ne + (t.n_dims ? t.n_dims : 1));
        const uint8_t *src = data + g.data_offset + t.offset;
        if (terms.empty() && out_type == in_type) {
            w.add_tensor(name, in_type, ne, [src](uint8_t *dst, size_t bytes) { memcpy(dst, src, bytes); });
            continue;
        }
        if (!quant::type_convertible(in_type))
            return err.set(SM_ERR_UNSUPPORTED, "%s: tensor '%s' has type %s, which cannot be converted", base_path, name.c_str(),
                           type_name(t.type));
        const int64_t rows = t.elements() / t.ne[0], cols = t.ne[0];
        w.add_tensor(name, out_type, ne, [=](uint8_t *dst, size_t) {
            const size_t in_rb = row_bytes(in_type, cols);
            std::vector<float> m(static_cast<size_t>(rows * cols));
            for (int64_t r = 0; r < rows; r++) quant::dequantize_row(in_type, src + r * in_rb, m.data() + r * cols, cols);
            for (const Term &term : terms) {
                const PairSource &p = *term.pair;
                std::vector<float> a(static_cast<size_t>(p.rank * cols)), b(static_cast<size_t>(rows * p.rank));
                pair_floats(p, a.data(), b.data());
                // Each delta element in double, rounded once: the merged weight is the
                // closest float to W + s B A that W allows.
                for (int64_t n = 0; n < rows; n++)
                    for (int64_t k = 0; k < cols; k++) {
                        double d = 0;
                        for (int j = 0; j < p.rank; j++) d += static_cast<double>(b[n * p.rank + j]) * a[j * cols + k];
                        m[n * cols + k] = static_cast<float>(m[n * cols + k] + term.scale * d);
                    }
            }
            quant::quantize_rows(out_type, m.data(), dst, rows, cols);
        });
    }
    return w.write(out_path, err);
}

} // namespace sm::lora
