// llama2.c checkpoints -> ModelFile.
//   version 0 (legacy): 7 x i32 header; vocab_size < 0 means a separate classifier;
//     weights in run.c's order, RoPE tables after the final norm.
//   version 1: 256-byte header ("ak42", version, 7 x i32, shared-classifier byte);
//     norms first, then the matrices.
//   version 2: as 1 plus an i32 group size; matrices are int8 groups, each tensor's
//     values followed by its f32 scales (runq.c's layout).
// A checkpoint must be exactly as long as its header implies.
#include "format/model_file.h"

#include <cstdio>
#include <cstring>

namespace sm {

namespace {

constexpr uint32_t kLlama2cMagic = 0x616b3432; // "ak42"

struct Header {
    int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
};

// Lays tensors out one after another, checking the file holds them.
struct Layout {
    const uint8_t *base;
    uint64_t size, pos;
    uint32_t group; // 0: f32
    Error &err;

    sm_status take(TensorSource &t, const char *role, int64_t ne0, int64_t ne1, bool quantized) {
        t.role = role;
        t.ne0 = ne0;
        t.ne1 = ne1;
        uint64_t n = static_cast<uint64_t>(ne0) * static_cast<uint64_t>(ne1);
        if (quantized && group) {
            if (n % group)
                return err.set(SM_ERR_FORMAT, "llama2.c tensor %s (%llu values) is not a multiple of group size %u", role,
                               (unsigned long long)n, group);
            t.type = TensorType::F32; // dequantized while loading
            t.l2c_group = group;
            t.bytes = n + n / group * 4;
        } else {
            t.type = TensorType::F32;
            t.bytes = n * 4;
        }
        if (t.bytes > size - pos)
            return err.set(SM_ERR_FORMAT, "truncated llama2.c checkpoint: %s needs %llu bytes at offset %llu, file has %llu",
                           role, (unsigned long long)t.bytes, (unsigned long long)pos, (unsigned long long)size);
        t.data = base + pos;
        pos += t.bytes;
        return SM_OK;
    }
    sm_status skip(uint64_t bytes, const char *what) {
        if (bytes > size - pos) return err.set(SM_ERR_FORMAT, "truncated llama2.c checkpoint: %s", what);
        pos += bytes;
        return SM_OK;
    }
};

} // namespace

sm_status model_from_llama2c(const uint8_t *data, size_t size, ModelFile &m, Error &err) {
    m.kind = FileKind::Llama2c;
    if (size < 28) return err.set(SM_ERR_FORMAT, "file of %zu bytes is too short for a llama2.c header", size);
    uint32_t magic;
    memcpy(&magic, data, 4);
    int32_t version = 0;
    Header h;
    bool shared = true;
    uint32_t group = 0;
    uint64_t pos;
    if (magic == kLlama2cMagic) {
        if (size < 256) return err.set(SM_ERR_FORMAT, "llama2.c header truncated (%zu of 256 bytes)", size);
        memcpy(&version, data + 4, 4);
        if (version != 1 && version != 2)
            return err.set(SM_ERR_UNSUPPORTED, "llama2.c checkpoint version %d is not supported (0, 1 and 2 are)", version);
        memcpy(&h, data + 8, sizeof h);
        shared = data[36] != 0;
        if (data[36] > 1) return err.set(SM_ERR_FORMAT, "llama2.c shared-classifier flag is %u, expected 0 or 1", data[36]);
        if (version == 2) {
            int32_t gs;
            memcpy(&gs, data + 37, 4);
            if (gs <= 0 || gs > (1 << 16)) return err.set(SM_ERR_FORMAT, "llama2.c group size %d is invalid", gs);
            group = static_cast<uint32_t>(gs);
        }
        pos = 256;
    } else {
        memcpy(&h, data, sizeof h);
        shared = h.vocab_size > 0;
        if (h.vocab_size < 0) h.vocab_size = -h.vocab_size;
        pos = 28;
    }
    if (h.dim <= 0 || h.dim > 65536 || h.hidden_dim <= 0 || h.hidden_dim > (1 << 20) || h.n_layers <= 0 || h.n_layers > 1024 ||
        h.n_heads <= 0 || h.n_heads > 1024 || h.n_kv_heads <= 0 || h.n_kv_heads > h.n_heads || h.vocab_size <= 0 ||
        h.vocab_size > (1 << 24) || h.seq_len <= 0 || h.seq_len > (1 << 24))
        return err.set(
            SM_ERR_FORMAT,
            "not a llama2.c checkpoint: implausible header (dim %d, hidden %d, layers %d, heads %d/%d, vocab %d, seq %d)", h.dim,
            h.hidden_dim, h.n_layers, h.n_heads, h.n_kv_heads, h.vocab_size, h.seq_len);
    if (h.dim % h.n_heads || h.n_heads % h.n_kv_heads || (h.dim / h.n_heads) % 2)
        return err.set(SM_ERR_FORMAT, "llama2.c header: dim %d, %d heads and %d KV heads do not fit together", h.dim, h.n_heads,
                       h.n_kv_heads);

    Hparams &hp = m.hp;
    snprintf(hp.name, sizeof hp.name, "llama2.c");
    hp.n_vocab = h.vocab_size;
    hp.dim = h.dim;
    hp.hidden_dim = h.hidden_dim;
    hp.n_layers = h.n_layers;
    hp.n_heads = h.n_heads;
    hp.n_kv_heads = h.n_kv_heads;
    hp.head_dim = h.dim / h.n_heads;
    hp.n_ctx_train = h.seq_len;
    hp.rope_theta = 10000.0f;
    hp.norm_eps = 1e-5f;

    const int64_t dim = hp.dim, kv = hp.kv_dim(), hid = hp.hidden_dim, V = hp.n_vocab;
    const size_t L = static_cast<size_t>(hp.n_layers);
    m.layers.assign(L, LayerSources{});
    Layout lay{data, size, pos, group, err};
    auto each = [&](TensorSource LayerSources::*field, const char *role, int64_t ne0, int64_t ne1, bool q) -> sm_status {
        for (size_t l = 0; l < L; l++) SM_TRY(lay.take(m.layers[l].*field, role, ne0, ne1, q));
        return SM_OK;
    };
    if (version == 0) {
        SM_TRY(lay.take(m.tok_embd, "token_embedding_table", dim, V, false));
        SM_TRY(each(&LayerSources::attn_norm, "rms_att_weight", dim, 1, false));
        SM_TRY(each(&LayerSources::wq, "wq", dim, dim, false));
        SM_TRY(each(&LayerSources::wk, "wk", dim, kv, false));
        SM_TRY(each(&LayerSources::wv, "wv", dim, kv, false));
        SM_TRY(each(&LayerSources::wo, "wo", dim, dim, false));
        SM_TRY(each(&LayerSources::ffn_norm, "rms_ffn_weight", dim, 1, false));
        SM_TRY(each(&LayerSources::w1, "w1", dim, hid, false));
        SM_TRY(each(&LayerSources::w2, "w2", hid, dim, false));
        SM_TRY(each(&LayerSources::w3, "w3", dim, hid, false));
        SM_TRY(lay.take(m.output_norm, "rms_final_weight", dim, 1, false));
        // RoPE tables (cos and sin, seq_len x head_dim/2 each): recomputed, not read.
        SM_TRY(lay.skip(static_cast<uint64_t>(h.seq_len) * static_cast<uint64_t>(hp.head_dim) * 4, "RoPE tables"));
        if (!shared) SM_TRY(lay.take(m.output, "wcls", dim, V, false));
    } else {
        SM_TRY(each(&LayerSources::attn_norm, "rms_att_weight", dim, 1, false));
        SM_TRY(each(&LayerSources::ffn_norm, "rms_ffn_weight", dim, 1, false));
        SM_TRY(lay.take(m.output_norm, "rms_final_weight", dim, 1, false));
        SM_TRY(lay.take(m.tok_embd, "token_embedding_table", dim, V, true));
        SM_TRY(each(&LayerSources::wq, "wq", dim, dim, true));
        SM_TRY(each(&LayerSources::wk, "wk", dim, kv, true));
        SM_TRY(each(&LayerSources::wv, "wv", dim, kv, true));
        SM_TRY(each(&LayerSources::wo, "wo", dim, dim, true));
        SM_TRY(each(&LayerSources::w1, "w1", dim, hid, true));
        SM_TRY(each(&LayerSources::w2, "w2", hid, dim, true));
        SM_TRY(each(&LayerSources::w3, "w3", dim, hid, true));
        if (!shared) SM_TRY(lay.take(m.output, "wcls", dim, V, true));
    }
    if (lay.pos != size)
        return err.set(SM_ERR_FORMAT, "llama2.c checkpoint is %zu bytes but its header describes %llu", size,
                       (unsigned long long)lay.pos);
    return SM_OK;
}

sm_status vocab_from_llama2c(const uint8_t *data, size_t size, int32_t n_vocab, text::VocabSource &v, std::vector<char> &storage,
                             Error &err) {
    v = text::VocabSource{};
    if (size < 4) return err.set(SM_ERR_FORMAT, "tokenizer.bin is too short");
    int32_t max_len;
    memcpy(&max_len, data, 4);
    if (max_len <= 0 || max_len > (1 << 16))
        return err.set(SM_ERR_FORMAT, "tokenizer.bin: max token length %d is invalid", max_len);
    // First pass: validate and size; second: rewrite ' ' as U+2581 like SentencePiece.
    size_t pos = 4, need = 0;
    struct Piece {
        size_t at;
        int32_t len;
        float score;
    };
    std::vector<Piece> pieces(static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n_vocab; i++) {
        if (size - pos < 8) return err.set(SM_ERR_FORMAT, "tokenizer.bin truncated at token %d of %d", i, n_vocab);
        Piece &p = pieces[static_cast<size_t>(i)];
        memcpy(&p.score, data + pos, 4);
        memcpy(&p.len, data + pos + 4, 4);
        pos += 8;
        if (p.len < 0 || p.len > max_len || static_cast<size_t>(p.len) > size - pos)
            return err.set(SM_ERR_FORMAT, "tokenizer.bin: token %d has length %d (max %d, %zu bytes left)", i, p.len, max_len,
                           size - pos);
        p.at = pos;
        pos += static_cast<size_t>(p.len);
        for (int32_t j = 0; j < p.len; j++) need += data[p.at + static_cast<size_t>(j)] == ' ' ? 3 : 1;
    }
    if (pos != size)
        return err.set(SM_ERR_FORMAT, "tokenizer.bin has %zu bytes after its %d tokens (vocabulary size mismatch?)", size - pos,
                       n_vocab);
    storage.assign(need, 0);
    size_t w = 0;
    v.tokens.resize(static_cast<size_t>(n_vocab));
    v.scores.resize(static_cast<size_t>(n_vocab));
    v.types.resize(static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n_vocab; i++) {
        const Piece &p = pieces[static_cast<size_t>(i)];
        size_t start = w;
        for (int32_t j = 0; j < p.len; j++) {
            char c = static_cast<char>(data[p.at + static_cast<size_t>(j)]);
            if (c == ' ') {
                storage[w++] = '\xE2';
                storage[w++] = '\x96';
                storage[w++] = '\x81';
            } else {
                storage[w++] = c;
            }
        }
        std::string_view s(storage.data() + start, w - start);
        v.tokens[static_cast<size_t>(i)] = s;
        v.scores[static_cast<size_t>(i)] = p.score;
        int32_t type = text::kTokNormal;
        if (s == "<unk>") type = text::kTokUnknown;
        else if (s == "<s>" || s == "</s>") type = text::kTokControl;
        else if (s.size() == 6 && s.substr(0, 3) == "<0x" && s[5] == '>') type = text::kTokByte;
        v.types[static_cast<size_t>(i)] = type;
    }
    v.model = "llama";
    v.pre = "default";
    v.bos = n_vocab > 1 ? 1 : -1; // llama2.c's fixed ids
    v.eos = n_vocab > 2 ? 2 : -1;
    v.unk = 0;
    v.add_bos = 1;
    return SM_OK;
}

sm_status open_model_file(const char *path, const char *tokenizer_path, ModelFile &m, Error &err) {
    SM_TRY(m.map.open(path, err));
    uint32_t magic = 0;
    if (m.map.size() >= 4) memcpy(&magic, m.map.data(), 4);
    if (magic == gguf::kMagic) {
        if (gguf::parse(m.map.data(), m.map.size(), m.gguf, err) != SM_OK) return err.wrap("%s", path);
        if (model_from_gguf(m.gguf, m.map.data(), m, err) != SM_OK) return err.wrap("%s", path);
        return SM_OK;
    }
    if (model_from_llama2c(m.map.data(), m.map.size(), m, err) != SM_OK) return err.wrap("%s", path);
    if (tokenizer_path) {
        SM_TRY(m.tok_map.open(tokenizer_path, err));
        if (vocab_from_llama2c(m.tok_map.data(), m.tok_map.size(), m.hp.n_vocab, m.vocab, m.vocab_storage, err) != SM_OK)
            return err.wrap("%s", tokenizer_path);
    }
    return SM_OK;
}

} // namespace sm
