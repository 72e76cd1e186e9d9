#include "lora/adapter_file.h"
#include "format/gguf_write.h"
#include "quant/quant.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

namespace sm::lora {

namespace {

std::string_view str_or_empty(const gguf::File &f, const char *key) {
    const gguf::Value *v = f.find(key);
    return v && v->type == gguf::kString ? v->str : std::string_view();
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "blk.<layer>.<target>.weight" -> layer and target; false for any other name.
bool parse_base_name(std::string_view name, int32_t n_layers, int32_t *layer, Target *target) {
    if (name.substr(0, 4) != "blk.") return false;
    size_t i = 4;
    int64_t l = 0;
    if (i >= name.size() || name[i] < '0' || name[i] > '9') return false;
    while (i < name.size() && name[i] >= '0' && name[i] <= '9' && l <= n_layers) l = l * 10 + (name[i++] - '0');
    if (l >= n_layers || i >= name.size() || name[i] != '.') return false;
    std::string_view rest = name.substr(i + 1);
    if (!ends_with(rest, ".weight")) return false;
    rest = rest.substr(0, rest.size() - 7);
    for (int t = 0; t < kTargets; t++)
        if (rest == target_tensor(static_cast<Target>(t))) {
            *layer = static_cast<int32_t>(l);
            *target = static_cast<Target>(t);
            return true;
        }
    return false;
}

bool adapter_type_ok(uint32_t t) { return t == 0 || t == 1 || t == 30 || t == 8; } // f32, f16, bf16, q8_0

sm_status bind(const gguf::File &f, const uint8_t *data, const gguf::TensorInfo &t, TensorSource &out, Error &err) {
    if (!adapter_type_ok(t.type))
        return err.set(SM_ERR_UNSUPPORTED, "adapter tensor '%.*s' has type %s (supported: f32, f16, bf16, q8_0)",
                       (int)t.name.size(), t.name.data(), type_name(t.type));
    if (t.ne[2] != 1 || t.ne[3] != 1)
        return err.set(SM_ERR_FORMAT, "adapter tensor '%.*s' has %u dimensions, expected 2", (int)t.name.size(), t.name.data(),
                       t.n_dims);
    if (row_bytes(static_cast<TensorType>(t.type), t.ne[0]) == 0)
        return err.set(SM_ERR_FORMAT, "adapter tensor '%.*s': %lld columns are not whole %s blocks", (int)t.name.size(),
                       t.name.data(), (long long)t.ne[0], type_name(t.type));
    out.role = "lora";
    out.type = static_cast<TensorType>(t.type);
    out.ne0 = t.ne[0];
    out.ne1 = t.ne[1];
    out.data = data + f.data_offset + t.offset;
    out.bytes = t.bytes;
    return SM_OK;
}

} // namespace

sm_status adapter_from_gguf(const gguf::File &f, const uint8_t *data, const Hparams &base, AdapterFile &out, Error &err) {
    const std::string_view type = str_or_empty(f, "general.type");
    if (type != "adapter")
        return err.set(SM_ERR_FORMAT, "not an adapter: general.type is '%.*s', expected 'adapter'", (int)type.size(),
                       type.data());
    const std::string_view atype = str_or_empty(f, "adapter.type");
    if (atype != "lora")
        return err.set(SM_ERR_UNSUPPORTED, "adapter.type is '%.*s'; SmallMind reads 'lora' adapters", (int)atype.size(),
                       atype.data());
    const std::string_view arch = str_or_empty(f, "general.architecture");
    if (arch != base.arch)
        return err.set(SM_ERR_MISMATCH, "adapter is for architecture '%.*s', the model is '%s'", (int)arch.size(), arch.data(),
                       base.arch);
    out.alpha = 0.0f;
    if (const gguf::Value *v = f.find("adapter.lora.alpha")) {
        double a;
        if (!v->is_float() || !v->to_f64(&a) || !std::isfinite(a))
            return err.set(SM_ERR_FORMAT, "adapter.lora.alpha has type %s or is not finite, expected an f32",
                           gguf::value_type_name(v->type));
        out.alpha = static_cast<float>(a);
    }
    out.pairs.clear();
    out.max_rank = 0;
    // Pair up "<name>.lora_a" with "<name>.lora_b".
    for (const gguf::TensorInfo &t : f.tensors) {
        const bool is_a = ends_with(t.name, ".lora_a"), is_b = ends_with(t.name, ".lora_b");
        if (!is_a && !is_b) {
            if (ends_with(t.name, "_norm.weight")) continue; // llama.cpp ignores norm deltas too
            return err.set(SM_ERR_FORMAT, "adapter tensor '%.*s' is neither a .lora_a nor a .lora_b", (int)t.name.size(),
                           t.name.data());
        }
        const std::string_view base_name = t.name.substr(0, t.name.size() - 7);
        int32_t layer;
        Target target;
        if (!parse_base_name(base_name, base.n_layers, &layer, &target))
            return err.set(SM_ERR_UNSUPPORTED,
                           "adapter tensor '%.*s' adapts '%.*s', which is not a projection of this %d-layer model "
                           "(SmallMind adapts attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down)",
                           (int)t.name.size(), t.name.data(), (int)base_name.size(), base_name.data(), base.n_layers);
        PairSource *p = nullptr;
        for (PairSource &q : out.pairs)
            if (q.layer == layer && q.target == target) p = &q;
        if (!p) {
            out.pairs.push_back(PairSource{});
            p = &out.pairs.back();
            p->layer = layer;
            p->target = target;
        }
        TensorSource &dst = is_a ? p->a : p->b;
        if (dst.present())
            return err.set(SM_ERR_FORMAT, "adapter tensor '%.*s' appears twice", (int)t.name.size(), t.name.data());
        SM_TRY(bind(f, data, t, dst, err));
    }
    for (PairSource &p : out.pairs) {
        char name[96];
        base_tensor_name(p.layer, p.target, name, sizeof name);
        if (!p.a.present() || !p.b.present())
            return err.set(SM_ERR_FORMAT, "adapter for '%s' has %s but no %s", name, p.a.present() ? "lora_a" : "lora_b",
                           p.a.present() ? "lora_b" : "lora_a");
        const Shape s = target_shape(base, p.target);
        if (p.a.ne0 != s.n_in || p.b.ne1 != s.n_out)
            return err.set(SM_ERR_MISMATCH,
                           "adapter for '%s' is %lld -> %lld, the model's tensor is %d -> %d (an adapter for another model?)",
                           name, (long long)p.a.ne0, (long long)p.b.ne1, s.n_in, s.n_out);
        if (p.a.ne1 != p.b.ne0 || p.a.ne1 < 1 || p.a.ne1 > 65536)
            return err.set(SM_ERR_FORMAT, "adapter for '%s': lora_a has rank %lld, lora_b %lld", name, (long long)p.a.ne1,
                           (long long)p.b.ne0);
        p.rank = static_cast<int32_t>(p.a.ne1);
        if (p.rank > out.max_rank) out.max_rank = p.rank;
    }
    if (out.pairs.empty()) return err.set(SM_ERR_FORMAT, "adapter holds no lora_a / lora_b tensors");
    return SM_OK;
}

sm_status open_adapter_file(const char *path, const Hparams &base, AdapterFile &out, Error &err) {
    SM_TRY(out.map.open(path, err));
    if (out.map.size() < 4 || memcmp(out.map.data(), "GGUF", 4) != 0)
        return err.set(SM_ERR_FORMAT, "'%s' is not a GGUF file (adapters are GGUF LoRA files)", path);
    SM_TRY(gguf::parse(out.map.data(), out.map.size(), out.gguf, err));
    if (adapter_from_gguf(out.gguf, out.map.data(), base, out, err) != SM_OK) return err.wrap("%s", path);
    return SM_OK;
}

sm_status adapter_file_rank(const char *path, int32_t *rank, Error &err) {
    FileMap map;
    gguf::File f;
    SM_TRY(map.open(path, err));
    if (map.size() < 4 || memcmp(map.data(), "GGUF", 4) != 0) return err.set(SM_ERR_FORMAT, "'%s' is not a GGUF file", path);
    SM_TRY(gguf::parse(map.data(), map.size(), f, err));
    if (str_or_empty(f, "general.type") != "adapter")
        return err.set(SM_ERR_FORMAT, "'%s' is not an adapter (general.type)", path);
    int64_t r = 0;
    for (const gguf::TensorInfo &t : f.tensors)
        if (ends_with(t.name, ".lora_a") && t.ne[1] > r) r = t.ne[1];
    if (r < 1 || r > 65536) return err.set(SM_ERR_FORMAT, "'%s' holds no lora_a tensor of a valid rank", path);
    *rank = static_cast<int32_t>(r);
    return SM_OK;
}

bool pair_floats(const PairSource &p, float *a, float *b) {
    const size_t arb = row_bytes(p.a.type, p.a.ne0), brb = row_bytes(p.b.type, p.b.ne0);
    for (int64_t r = 0; r < p.a.ne1; r++)
        if (!quant::dequantize_row(p.a.type, p.a.data + r * arb, a + r * p.a.ne0, p.a.ne0)) return false;
    for (int64_t r = 0; r < p.b.ne1; r++)
        if (!quant::dequantize_row(p.b.type, p.b.data + r * brb, b + r * p.b.ne0, p.b.ne0)) return false;
    return true;
}

sm_status write_adapter_file(const char *path, const char *arch, float alpha, const std::vector<PairValues> &pairs,
                             TensorType type, Error &err) {
    if (type != TensorType::F32 && type != TensorType::F16 && type != TensorType::Q8_0)
        return err.set(SM_ERR_INVALID_ARGUMENT, "adapters are written as f32, f16 or q8_0");
    for (const PairValues &p : pairs)
        if (row_bytes(type, p.n_in) == 0 || row_bytes(type, p.rank) == 0)
            return err.set(SM_ERR_INVALID_ARGUMENT, "%s adapters need n_in (%d) and rank (%d) in whole blocks of 32",
                           type_traits(static_cast<uint32_t>(type)).name, p.n_in, p.rank);
    gguf::Writer w;
    w.set_string("general.architecture", arch);
    w.set_string("general.type", "adapter");
    w.set_string("adapter.type", "lora");
    w.set_f32("adapter.lora.alpha", alpha);
    for (const PairValues &p : pairs) {
        char name[96], full[112];
        base_tensor_name(p.layer, p.target, name, sizeof name);
        auto fill = [type](const float *src, int64_t rows, int64_t cols) {
            return [=](uint8_t *dst, size_t) { quant::quantize_rows(type, src, dst, rows, cols); };
        };
        snprintf(full, sizeof full, "%s.lora_a", name);
        w.add_tensor(full, type, {p.n_in, p.rank}, fill(p.a, p.rank, p.n_in));
        snprintf(full, sizeof full, "%s.lora_b", name);
        w.add_tensor(full, type, {p.rank, p.n_out}, fill(p.b, p.n_out, p.rank));
    }
    return w.write(path, err);
}

} // namespace sm::lora
