// sm_convert_llama2c: a llama2.c checkpoint + tokenizer.bin -> GGUF (F32), with
// llama.cpp's key and tensor names, so any GGUF reader loads the result.
#include "api/handles.h"
#include "format/gguf_write.h"

#include <cstdio>
#include <cstring>
#include <string>

using namespace sm;

namespace {

void add(gguf::Writer &w, const std::string &name, const TensorSource &t) {
    std::vector<int64_t> ne = {t.ne0};
    if (t.ne1 > 1) ne.push_back(t.ne1);
    w.add_tensor(name, TensorType::F32, ne, [&t](uint8_t *dst, size_t) { tensor_to_f32(t, reinterpret_cast<float *>(dst)); });
}

} // namespace

extern "C" sm_status sm_convert_llama2c(sm_runtime *rt, const char *ckpt, const char *tok_path, const char *out) {
    if (!rt) return SM_ERR_INVALID_ARGUMENT;
    Error err;
    if (!ckpt || !tok_path || !out) {
        err.set(SM_ERR_INVALID_ARGUMENT, "checkpoint, tokenizer and output paths are required");
        return rt->fail(err);
    }
    try {
        ModelFile f;
        if (open_model_file(ckpt, tok_path, f, err) != SM_OK) return rt->fail(err);
        if (f.kind != FileKind::Llama2c) {
            err.set(SM_ERR_INVALID_ARGUMENT, "'%s' is already GGUF", ckpt);
            return rt->fail(err);
        }
        Hparams hp = f.hp;
        const text::VocabSource &v = f.vocab;
        gguf::Writer w;
        std::string name = ckpt;
        name = name.substr(name.find_last_of('/') + 1);
        name = name.substr(0, name.find_last_of('.'));
        snprintf(hp.name, sizeof hp.name, "%s", name.c_str());
        write_llama_metadata(w, hp, 0); // all F32
        w.set_string("tokenizer.ggml.model", "llama");
        w.set_string("tokenizer.ggml.pre", "default");
        w.set_strings("tokenizer.ggml.tokens", v.tokens);
        w.set_f32s("tokenizer.ggml.scores", v.scores);
        w.set_i32s("tokenizer.ggml.token_type", v.types);
        if (v.bos >= 0) w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(v.bos));
        if (v.eos >= 0) w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(v.eos));
        if (v.unk >= 0) w.set_u32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(v.unk));
        w.set_bool("tokenizer.ggml.add_bos_token", true);
        w.set_bool("tokenizer.ggml.add_eos_token", false);
        add(w, "token_embd.weight", f.tok_embd);
        add(w, "output_norm.weight", f.output_norm);
        if (!f.tied()) add(w, "output.weight", f.output);
        for (int l = 0; l < hp.n_layers; l++) {
            const LayerSources &s = f.layers[static_cast<size_t>(l)];
            const std::string p = "blk." + std::to_string(l) + ".";
            add(w, p + "attn_norm.weight", s.attn_norm);
            add(w, p + "attn_q.weight", s.wq);
            add(w, p + "attn_k.weight", s.wk);
            add(w, p + "attn_v.weight", s.wv);
            add(w, p + "attn_output.weight", s.wo);
            add(w, p + "ffn_norm.weight", s.ffn_norm);
            add(w, p + "ffn_gate.weight", s.w1);
            add(w, p + "ffn_down.weight", s.w2);
            add(w, p + "ffn_up.weight", s.w3);
        }
        if (w.write(out, err) != SM_OK) return rt->fail(err);
        return SM_OK;
    } catch (const std::bad_alloc &) {
        err.set(SM_ERR_BUDGET, "out of heap memory converting '%s'", ckpt);
        return rt->fail(err);
    }
}
