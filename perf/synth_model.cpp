// Llama-shaped GGUF files with seeded random weights, written by SmallMind's own GGUF
// writer with llama.cpp's key and tensor names, so llama.cpp benchmarks the same files.
// The vocabulary is a synthetic SentencePiece one (byte tokens + made-up pieces): enough
// for any GGUF reader to load the model and for benchmarks to feed token ids.
#include "perf/perf_commands.h"

#include "demo/common/cli_args.h"

#include "format/gguf_write.h"
#include "format/model_file.h"
#include "quant/quant.h"
#include "quant/fp16.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Preset {
    const char *name;
    int dim, hidden, layers, heads, kv_heads, vocab;
    bool tied;
};

const Preset kPresets[] = {
    {"tiny", 64, 192, 2, 4, 2, 512, false},     // for tests: seconds to write and load
    {"tiny-tied", 64, 192, 2, 4, 2, 512, true}, // the same, output tied to the embedding
    {"24m", 288, 768, 6, 6, 6, 32000, false},   // llama2.c stories-sized, separate output
    {"134m", 768, 2048, 12, 12, 12, 32000, false}, {"smol", 576, 1536, 30, 9, 3, 49152, true}, // SmolLM-135M's shape, tied output
};

// Seeded uniform weights with the spread of a freshly initialised transformer (std 0.02).
struct Gen {
    uint64_t s;
    float next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return (static_cast<float>(s >> 40) / 16777216.0f - 0.5f) * 0.0693f;
    }
};

uint64_t tensor_seed(uint64_t seed, const std::string &name) {
    uint64_t h = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
    for (char c : name) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
    return h | 1;
}

} // namespace

int cmd_synth_model(int argc, char **argv) {
    Args a(argc, argv, 2);
    std::string preset = "24m", type = "f32", out;
    int64_t seed = 1;
    a.str("--preset", &preset);
    a.str("--type", &type);
    a.i64("--seed", &seed);
    const bool has_out = a.str("--out", &out);
    if (!a.finish("synth-model")) return 2;
    if (!has_out) {
        fprintf(stderr, "error: synth-model needs --out PATH\n");
        return 2;
    }
    const Preset *p = nullptr;
    for (const Preset &x : kPresets)
        if (preset == x.name) p = &x;
    if (!p) {
        fprintf(stderr, "error: --preset must be tiny, tiny-tied, 24m, 134m or smol\n");
        return 2;
    }
    sm::TensorType wt;
    uint32_t file_type;
    if (type == "f32") wt = sm::TensorType::F32, file_type = 0;
    else if (type == "f16") wt = sm::TensorType::F16, file_type = 1;
    else if (type == "q8_0") wt = sm::TensorType::Q8_0, file_type = 7;
    else if (type == "q4_0") wt = sm::TensorType::Q4_0, file_type = 2;
    else {
        fprintf(stderr, "error: --type must be f32, f16, q8_0 or q4_0\n");
        return 2;
    }

    // Vocabulary: <unk> <s> </s>, the 256 byte tokens, then made-up pieces.
    std::vector<std::string> storage;
    storage.reserve(static_cast<size_t>(p->vocab));
    storage.push_back("<unk>");
    storage.push_back("<s>");
    storage.push_back("</s>");
    for (int b = 0; b < 256 && static_cast<int>(storage.size()) < p->vocab; b++) {
        char buf[8];
        snprintf(buf, sizeof buf, "<0x%02X>", b);
        storage.push_back(buf);
    }
    while (static_cast<int>(storage.size()) < p->vocab) storage.push_back("\xE2\x96\x81w" + std::to_string(storage.size()));
    std::vector<std::string_view> tokens(storage.begin(), storage.end());
    std::vector<float> scores(tokens.size());
    std::vector<int32_t> types(tokens.size(), 1);
    types[0] = 2;
    types[1] = types[2] = 3;
    for (size_t i = 3; i < 259 && i < types.size(); i++) types[i] = 6;
    for (size_t i = 0; i < scores.size(); i++) scores[i] = i < 259 ? 0.0f : -static_cast<float>(i - 259);

    sm::gguf::Writer w;
    sm::Hparams hp;
    snprintf(hp.name, sizeof hp.name, "smallmind-synth-%s", preset.c_str());
    hp.n_ctx_train = 2048, hp.dim = p->dim, hp.hidden_dim = p->hidden, hp.n_layers = p->layers;
    hp.n_heads = p->heads, hp.n_kv_heads = p->kv_heads, hp.head_dim = p->dim / p->heads, hp.n_vocab = p->vocab;
    sm::write_llama_metadata(w, hp, file_type);
    w.set_string("tokenizer.ggml.model", "llama");
    w.set_string("tokenizer.ggml.pre", "default");
    w.set_strings("tokenizer.ggml.tokens", tokens);
    w.set_f32s("tokenizer.ggml.scores", scores);
    w.set_i32s("tokenizer.ggml.token_type", types);
    w.set_u32("tokenizer.ggml.bos_token_id", 1);
    w.set_u32("tokenizer.ggml.eos_token_id", 2);
    w.set_u32("tokenizer.ggml.unknown_token_id", 0);
    w.set_bool("tokenizer.ggml.add_bos_token", true);
    w.set_bool("tokenizer.ggml.add_eos_token", false);

    const uint64_t s = static_cast<uint64_t>(seed);
    auto matrix = [&](const std::string &name, int cols, int rows) {
        w.add_tensor(name, wt, {cols, rows}, [=](uint8_t *dst, size_t bytes) {
            Gen g{tensor_seed(s, name)};
            std::vector<float> f(static_cast<size_t>(cols) * rows);
            for (float &x : f) x = g.next();
            if (wt == sm::TensorType::F32) memcpy(dst, f.data(), bytes);
            else if (wt == sm::TensorType::F16)
                for (size_t i = 0; i < f.size(); i++) {
                    uint16_t h = sm::f32_to_fp16(f[i]);
                    memcpy(dst + 2 * i, &h, 2);
                }
            else sm::quant::quantize_rows(wt, f.data(), dst, rows, cols);
        });
    };
    auto ones = [&](const std::string &name, int n) {
        w.add_tensor(name, sm::TensorType::F32, {n}, [=](uint8_t *dst, size_t) {
            for (int i = 0; i < n; i++) {
                float one = 1.0f;
                memcpy(dst + 4 * i, &one, 4);
            }
        });
    };
    const int hd = p->dim / p->heads, kv = p->kv_heads * hd;
    matrix("token_embd.weight", p->dim, p->vocab);
    ones("output_norm.weight", p->dim);
    if (!p->tied) matrix("output.weight", p->dim, p->vocab);
    for (int l = 0; l < p->layers; l++) {
        const std::string b = "blk." + std::to_string(l) + ".";
        ones(b + "attn_norm.weight", p->dim);
        matrix(b + "attn_q.weight", p->dim, p->dim);
        matrix(b + "attn_k.weight", p->dim, kv);
        matrix(b + "attn_v.weight", p->dim, kv);
        matrix(b + "attn_output.weight", p->dim, p->dim);
        ones(b + "ffn_norm.weight", p->dim);
        matrix(b + "ffn_gate.weight", p->dim, p->hidden);
        matrix(b + "ffn_down.weight", p->hidden, p->dim);
        matrix(b + "ffn_up.weight", p->dim, p->hidden);
    }
    sm::Error err;
    if (w.write(out.c_str(), err) != SM_OK) {
        fprintf(stderr, "error: %s\n", err.message);
        return 1;
    }
    fprintf(stderr, "wrote %s (%s, %s)\n", out.c_str(), preset.c_str(), type.c_str());
    return 0;
}
