// GGUF -> ModelFile: llama.cpp's key and tensor names for the "llama" architecture.
#include "format/model_file.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

namespace sm {

namespace {

sm_status get_int(const gguf::File &f, const char *key, int64_t lo, int64_t hi, bool required, int32_t *out, Error &err) {
    const gguf::Value *v = f.find(key);
    if (!v) {
        if (required) return err.set(SM_ERR_FORMAT, "missing metadata key '%s'", key);
        return SM_OK;
    }
    int64_t x;
    if (!v->to_i64(&x))
        return err.set(SM_ERR_FORMAT, "metadata '%s' has type %s, expected an integer", key, gguf::value_type_name(v->type));
    if (x < lo || x > hi)
        return err.set(SM_ERR_FORMAT, "metadata '%s' = %lld is out of range [%lld, %lld]", key, (long long)x, (long long)lo,
                       (long long)hi);
    *out = static_cast<int32_t>(x);
    return SM_OK;
}

sm_status get_float(const gguf::File &f, const char *key, float *out, Error &err) {
    const gguf::Value *v = f.find(key);
    if (!v) return SM_OK;
    double x;
    if (!v->is_float() || !v->to_f64(&x))
        return err.set(SM_ERR_FORMAT, "metadata '%s' has type %s, expected a float", key, gguf::value_type_name(v->type));
    if (!std::isfinite(x) || x <= 0) return err.set(SM_ERR_FORMAT, "metadata '%s' = %g must be positive", key, x);
    *out = static_cast<float>(x);
    return SM_OK;
}

sm_status get_string(const gguf::File &f, const char *key, std::string_view *out, Error &err) {
    const gguf::Value *v = f.find(key);
    if (!v) return SM_OK;
    if (v->type != gguf::kString)
        return err.set(SM_ERR_FORMAT, "metadata '%s' has type %s, expected a string", key, gguf::value_type_name(v->type));
    *out = v->str;
    return SM_OK;
}

// Binds a tensor by name and checks its shape: [ne0, ne1] (ne1 = 1 for vectors).
sm_status bind(const gguf::File &f, const uint8_t *data, const std::string &name, int64_t ne0, int64_t ne1, bool required,
               TensorSource &out, Error &err) {
    const gguf::TensorInfo *t = f.tensor(name);
    if (!t) {
        if (required) return err.set(SM_ERR_FORMAT, "missing tensor '%s'", name.c_str());
        return SM_OK;
    }
    if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || t->ne[3] != 1)
        return err.set(SM_ERR_FORMAT, "tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld, %lld]", name.c_str(),
                       (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3], (long long)ne0,
                       (long long)ne1);
    const TypeTraits &tt = type_traits(t->type);
    if (!tt.supported)
        return err.set(
            SM_ERR_UNSUPPORTED,
            "tensor '%s' has type %s, which SmallMind cannot compute with (supported: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k)",
            name.c_str(), tt.name);
    bool vector = ne1 == 1;
    if (vector && t->type != 0 && t->type != 1 && t->type != 30)
        return err.set(SM_ERR_UNSUPPORTED, "norm tensor '%s' has type %s; expected f32, f16 or bf16", name.c_str(), tt.name);
    out.type = static_cast<TensorType>(t->type);
    out.ne0 = ne0;
    out.ne1 = ne1;
    out.data = data + f.data_offset + t->offset;
    out.bytes = t->bytes;
    return SM_OK;
}

} // namespace

sm_status vocab_from_gguf(const gguf::File &f, text::VocabSource &v, Error &err) {
    v = text::VocabSource{};
    SM_TRY(get_string(f, "tokenizer.ggml.model", &v.model, err));
    SM_TRY(get_string(f, "tokenizer.ggml.pre", &v.pre, err));
    SM_TRY(get_string(f, "tokenizer.chat_template", &v.chat_template, err));
    if (const gguf::Value *t = f.find("tokenizer.ggml.tokens")) {
        if (t->type != gguf::kArray || t->elem_type != gguf::kString)
            return err.set(SM_ERR_FORMAT, "tokenizer.ggml.tokens must be an array of strings");
        v.tokens = t->strings;
    }
    const size_t n = v.tokens.size();
    if (const gguf::Value *s = f.find("tokenizer.ggml.scores")) {
        if (s->type != gguf::kArray || s->elem_type != gguf::kF32 || s->count != n)
            return err.set(SM_ERR_FORMAT, "tokenizer.ggml.scores must be %zu f32 values", n);
        v.scores.resize(n);
        if (n) memcpy(v.scores.data(), s->raw, n * 4);
    }
    if (const gguf::Value *s = f.find("tokenizer.ggml.token_type")) {
        if (s->type != gguf::kArray || s->elem_type != gguf::kI32 || s->count != n)
            return err.set(SM_ERR_FORMAT, "tokenizer.ggml.token_type must be %zu i32 values", n);
        v.types.resize(n);
        if (n) memcpy(v.types.data(), s->raw, n * 4);
    }
    if (const gguf::Value *m = f.find("tokenizer.ggml.merges")) {
        if (m->type != gguf::kArray || m->elem_type != gguf::kString)
            return err.set(SM_ERR_FORMAT, "tokenizer.ggml.merges must be an array of strings");
        v.merges = m->strings;
    }
    struct IdKey {
        const char *key;
        int32_t *dst;
    } ids[] = {{"tokenizer.ggml.bos_token_id", &v.bos},
               {"tokenizer.ggml.eos_token_id", &v.eos},
               {"tokenizer.ggml.unknown_token_id", &v.unk},
               {"tokenizer.ggml.padding_token_id", &v.pad},
               {"tokenizer.ggml.eot_token_id", &v.eot}};
    for (auto &id : ids) {
        const gguf::Value *x = f.find(id.key);
        int64_t val;
        if (!x) continue;
        if (!x->to_i64(&val)) return err.set(SM_ERR_FORMAT, "metadata '%s' must be an integer", id.key);
        // llama.cpp's converters write 0xFFFFFFFF for "none".
        *id.dst = (val >= 0 && val < static_cast<int64_t>(n)) ? static_cast<int32_t>(val) : -1;
        if (val >= static_cast<int64_t>(n) && val != 0xFFFFFFFFll && val != -1)
            return err.set(SM_ERR_FORMAT, "metadata '%s' = %lld is not a token id (vocabulary of %zu)", id.key, (long long)val,
                           n);
    }
    struct FlagKey {
        const char *key;
        int *dst;
    } flags[] = {{"tokenizer.ggml.add_bos_token", &v.add_bos},
                 {"tokenizer.ggml.add_eos_token", &v.add_eos},
                 {"tokenizer.ggml.add_space_prefix", &v.add_space_prefix}};
    for (auto &fl : flags) {
        const gguf::Value *x = f.find(fl.key);
        if (!x) continue;
        if (x->type != gguf::kBool) return err.set(SM_ERR_FORMAT, "metadata '%s' must be a bool", fl.key);
        *fl.dst = x->raw[0] != 0;
    }
    return SM_OK;
}

sm_status model_from_gguf(const gguf::File &f, const uint8_t *data, ModelFile &m, Error &err) {
    m.kind = FileKind::GGUF;
    std::string_view arch;
    SM_TRY(get_string(f, "general.architecture", &arch, err));
    if (arch.empty()) return err.set(SM_ERR_FORMAT, "missing metadata key 'general.architecture'");
    if (arch != "llama")
        return err.set(SM_ERR_UNSUPPORTED, "architecture '%.*s' is not supported (only 'llama')", (int)arch.size(), arch.data());
    Hparams &hp = m.hp;
    snprintf(hp.arch, sizeof hp.arch, "%.*s", (int)arch.size(), arch.data());
    std::string_view name;
    SM_TRY(get_string(f, "general.name", &name, err));
    snprintf(hp.name, sizeof hp.name, "%.*s", (int)name.size(), name.data());

    constexpr int64_t kBig = 1 << 20;
    SM_TRY(get_int(f, "llama.embedding_length", 1, 65536, true, &hp.dim, err));
    SM_TRY(get_int(f, "llama.block_count", 1, 1024, true, &hp.n_layers, err));
    SM_TRY(get_int(f, "llama.feed_forward_length", 1, kBig, true, &hp.hidden_dim, err));
    SM_TRY(get_int(f, "llama.attention.head_count", 1, 1024, true, &hp.n_heads, err));
    hp.n_kv_heads = hp.n_heads;
    SM_TRY(get_int(f, "llama.attention.head_count_kv", 1, 1024, false, &hp.n_kv_heads, err));
    hp.n_ctx_train = 2048;
    SM_TRY(get_int(f, "llama.context_length", 1, 1 << 24, false, &hp.n_ctx_train, err));
    SM_TRY(get_float(f, "llama.attention.layer_norm_rms_epsilon", &hp.norm_eps, err));
    SM_TRY(get_float(f, "llama.rope.freq_base", &hp.rope_theta, err));
    if (hp.dim % hp.n_heads)
        return err.set(SM_ERR_FORMAT, "embedding length %d is not divisible by %d heads", hp.dim, hp.n_heads);
    hp.head_dim = hp.dim / hp.n_heads;
    if (hp.head_dim % 2) return err.set(SM_ERR_FORMAT, "head size %d is odd; RoPE needs pairs", hp.head_dim);
    if (hp.n_heads % hp.n_kv_heads)
        return err.set(SM_ERR_FORMAT, "%d heads are not a multiple of %d KV heads", hp.n_heads, hp.n_kv_heads);
    int32_t rope_dim = hp.head_dim;
    SM_TRY(get_int(f, "llama.rope.dimension_count", 1, 65536, false, &rope_dim, err));
    if (rope_dim != hp.head_dim)
        return err.set(SM_ERR_UNSUPPORTED, "partial RoPE (%d of %d dimensions) is not supported", rope_dim, hp.head_dim);
    std::string_view scaling;
    SM_TRY(get_string(f, "llama.rope.scaling.type", &scaling, err));
    if (!scaling.empty() && scaling != "none")
        return err.set(SM_ERR_UNSUPPORTED, "RoPE scaling '%.*s' is not supported", (int)scaling.size(), scaling.data());

    const gguf::TensorInfo *emb = f.tensor("token_embd.weight");
    if (!emb) return err.set(SM_ERR_FORMAT, "missing tensor 'token_embd.weight'");
    hp.n_vocab = static_cast<int32_t>(emb->ne[1] > INT32_MAX ? -1 : emb->ne[1]);
    int32_t meta_vocab = hp.n_vocab;
    SM_TRY(get_int(f, "llama.vocab_size", 1, INT32_MAX, false, &meta_vocab, err));
    if (meta_vocab != hp.n_vocab)
        return err.set(SM_ERR_FORMAT, "llama.vocab_size %d disagrees with token_embd.weight's %lld rows", meta_vocab,
                       (long long)emb->ne[1]);

    const int64_t dim = hp.dim, q = hp.q_dim(), kv = hp.kv_dim(), hid = hp.hidden_dim, V = hp.n_vocab;
    SM_TRY(bind(f, data, "token_embd.weight", dim, V, true, m.tok_embd, err));
    SM_TRY(bind(f, data, "output_norm.weight", dim, 1, true, m.output_norm, err));
    SM_TRY(bind(f, data, "output.weight", dim, V, false, m.output, err));
    m.tok_embd.role = "token_embd.weight";
    m.output_norm.role = "output_norm.weight";
    m.output.role = "output.weight";
    m.layers.resize(static_cast<size_t>(hp.n_layers));
    for (int l = 0; l < hp.n_layers; l++) {
        LayerSources &L = m.layers[static_cast<size_t>(l)];
        std::string p = "blk." + std::to_string(l) + ".";
        struct {
            const char *suffix;
            int64_t ne0, ne1;
            TensorSource *dst;
        } want[] = {{"attn_norm.weight", dim, 1, &L.attn_norm}, {"attn_q.weight", dim, q, &L.wq},
                    {"attn_k.weight", dim, kv, &L.wk},          {"attn_v.weight", dim, kv, &L.wv},
                    {"attn_output.weight", q, dim, &L.wo},      {"ffn_norm.weight", dim, 1, &L.ffn_norm},
                    {"ffn_gate.weight", dim, hid, &L.w1},       {"ffn_down.weight", hid, dim, &L.w2},
                    {"ffn_up.weight", dim, hid, &L.w3}};
        for (auto &w : want) {
            SM_TRY(bind(f, data, p + w.suffix, w.ne0, w.ne1, true, *w.dst, err));
            w.dst->role = w.suffix;
        }
    }
    return vocab_from_gguf(f, m.vocab, err);
}

} // namespace sm
