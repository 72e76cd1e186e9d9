// The shape files `smallmind train` (from scratch) and `bench-train` start from.
#include "shape_model.h"

#include "core/error.h"
#include "core/file_map.h"
#include "format/gguf.h"
#include "format/gguf_write.h"
#include "format/model_file.h"

#include <cstdio>
#include <cstring>
#include <vector>

namespace {

// GPT-2's byte -> printable character map: bytes that are printable stand for
// themselves, the rest take the code points from 256 up, in byte order. A byte-level
// BPE vocabulary of just these 256 symbols (no merges) tokenizes any text byte by byte.
std::vector<std::string> byte_symbols() {
    std::vector<std::string> out(256);
    int extra = 0;
    for (int b = 0; b < 256; b++) {
        const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        const unsigned cp = printable ? static_cast<unsigned>(b) : 256u + static_cast<unsigned>(extra++);
        std::string s;
        if (cp < 0x80) s += static_cast<char>(cp);
        else {
            s += static_cast<char>(0xc0 | (cp >> 6));
            s += static_cast<char>(0x80 | (cp & 0x3f));
        }
        out[b] = s;
    }
    return out;
}

} // namespace

bool write_shape_model(const ShapeSpec &s, const std::string &path) {
    sm::Error err;
    sm::gguf::Writer w;
    sm::FileMap vmap;
    sm::gguf::File vf;
    std::vector<std::string> bytes;
    std::vector<std::string_view> views;
    int vocab = s.vocab;
    if (s.vocab_from == "bytes") {
        bytes = byte_symbols();
        for (auto &b : bytes) views.push_back(b);
        w.set_string("tokenizer.ggml.model", "gpt2");
        w.set_string("tokenizer.ggml.pre", "default");
        w.set_strings("tokenizer.ggml.tokens", views);
        w.set_i32s("tokenizer.ggml.token_type", std::vector<int32_t>(256, 1));
        // GGUF readers want at least one merge: this one joins two raw tabs, which never
        // occur as symbols (a tab byte is the symbol U+0109), so it never applies.
        w.set_strings("tokenizer.ggml.merges", {std::string_view("\t \t")});
        w.set_bool("tokenizer.ggml.add_bos_token", false);
        if (vocab == 0) vocab = 256;
        if (vocab < 256) {
            fprintf(stderr, "error: the byte vocabulary needs a vocabulary size of at least 256\n");
            return false;
        }
    } else if (!s.vocab_from.empty()) {
        if (vmap.open(s.vocab_from.c_str(), err) != SM_OK || sm::gguf::parse(vmap.data(), vmap.size(), vf, err) != SM_OK) {
            fprintf(stderr, "error: --vocab %s: %s\n", s.vocab_from.c_str(), err.message);
            return false;
        }
        const sm::gguf::Value *t = vf.find("tokenizer.ggml.tokens");
        if (!t || t->type != sm::gguf::kArray) {
            fprintf(stderr, "error: --vocab %s has no tokenizer.ggml.tokens\n", s.vocab_from.c_str());
            return false;
        }
        if (vocab == 0) vocab = static_cast<int>(t->count);
        for (const auto &kv : vf.kv) {
            if (kv.key.substr(0, 10) != "tokenizer.") continue;
            const sm::gguf::Value &v = kv.value;
            int64_t i;
            double x;
            if (v.type == sm::gguf::kString) w.set_string(kv.key, v.str);
            else if (v.type == sm::gguf::kBool) w.set_bool(kv.key, v.raw[0] != 0);
            else if (v.type == sm::gguf::kF32 && v.to_f64(&x)) w.set_f32(kv.key, static_cast<float>(x));
            else if (v.type == sm::gguf::kArray && v.elem_type == sm::gguf::kString) w.set_strings(kv.key, v.strings);
            else if (v.type == sm::gguf::kArray && v.elem_type == sm::gguf::kF32) {
                std::vector<float> a(v.count);
                memcpy(a.data(), v.raw, v.count * 4);
                w.set_f32s(kv.key, a);
            } else if (v.type == sm::gguf::kArray && v.elem_type == sm::gguf::kI32) {
                std::vector<int32_t> a(v.count);
                memcpy(a.data(), v.raw, v.count * 4);
                w.set_i32s(kv.key, a);
            } else if (v.to_i64(&i) && i >= 0 && i <= 0xffffffffll) w.set_u32(kv.key, static_cast<uint32_t>(i));
        }
    }
    if (vocab <= 0 || s.dim <= 0 || s.hidden <= 0 || s.layers <= 0 || s.heads <= 0 || s.dim % s.heads || (s.dim / s.heads) % 2) {
        fprintf(stderr,
                "error: the shape needs positive --dim, --hidden, --layers, --heads, a vocabulary, and an even head size\n");
        return false;
    }
    const int kvh = s.kv_heads > 0 ? s.kv_heads : s.heads, hd = s.dim / s.heads;
    if (s.heads % kvh) {
        fprintf(stderr, "error: --heads must be a multiple of --kv-heads\n");
        return false;
    }
    sm::Hparams hp;
    snprintf(hp.name, sizeof hp.name, "smallmind-train");
    hp.n_ctx_train = s.ctx, hp.dim = s.dim, hp.hidden_dim = s.hidden, hp.n_layers = s.layers;
    hp.n_heads = s.heads, hp.n_kv_heads = kvh, hp.head_dim = hd, hp.n_vocab = static_cast<int32_t>(vocab);
    sm::write_llama_metadata(w, hp, 0);
    auto zeros = [](uint8_t *dst, size_t n) { memset(dst, 0, n); };
    auto ones = [](uint8_t *dst, size_t n) {
        const float one = 1.0f;
        for (size_t i = 0; i + 4 <= n; i += 4) memcpy(dst + i, &one, 4);
    };
    const int64_t D = s.dim, H = s.hidden;
    w.add_tensor("token_embd.weight", sm::TensorType::F32, {D, vocab}, zeros);
    for (int l = 0; l < s.layers; l++) {
        const std::string b = "blk." + std::to_string(l) + ".";
        w.add_tensor(b + "attn_norm.weight", sm::TensorType::F32, {D}, ones);
        w.add_tensor(b + "attn_q.weight", sm::TensorType::F32, {D, static_cast<int64_t>(s.heads) * hd}, zeros);
        w.add_tensor(b + "attn_k.weight", sm::TensorType::F32, {D, static_cast<int64_t>(kvh) * hd}, zeros);
        w.add_tensor(b + "attn_v.weight", sm::TensorType::F32, {D, static_cast<int64_t>(kvh) * hd}, zeros);
        w.add_tensor(b + "attn_output.weight", sm::TensorType::F32, {static_cast<int64_t>(s.heads) * hd, D}, zeros);
        w.add_tensor(b + "ffn_norm.weight", sm::TensorType::F32, {D}, ones);
        w.add_tensor(b + "ffn_gate.weight", sm::TensorType::F32, {D, H}, zeros);
        w.add_tensor(b + "ffn_up.weight", sm::TensorType::F32, {D, H}, zeros);
        w.add_tensor(b + "ffn_down.weight", sm::TensorType::F32, {H, D}, zeros);
    }
    w.add_tensor("output_norm.weight", sm::TensorType::F32, {D}, ones);
    w.add_tensor("output.weight", sm::TensorType::F32, {D, vocab}, zeros);
    if (w.write(path.c_str(), err) != SM_OK) {
        fprintf(stderr, "error: %s\n", err.message);
        return false;
    }
    return true;
}
