// smallmind info / logits / convert: look inside a model, dump its logits, convert one.
#include "commands.h"
#include "demo/common/cli_model.h"

#include <cstdio>
#include <vector>

int cmd_info(int argc, char **argv) {
    Args a(argc, argv, 2);
    ModelOptions mo;
    read_model_options(a, mo);
    if (!a.finish("info")) return 2;
    Loaded L;
    if (!load_model(mo, L)) return 1;
    const sm_model_info &i = L.info;
    printf("model         %s\n", mo.path.c_str());
    printf("name          %s\n", i.name);
    printf("architecture  %s\n", i.architecture);
    printf("weights       %s, %lld parameters, %zu bytes\n", i.weight_type, (long long)i.n_params, i.weight_bytes);
    printf("tokenizer     %s (%d tokens, bos %d, eos %d)\n", i.tokenizer, i.n_vocab, i.bos, i.eos);
    printf("dim           %d\nhidden        %d\nlayers        %d\nheads         %d (kv %d, head size %d)\n", i.dim, i.hidden_dim,
           i.n_layers, i.n_heads, i.n_kv_heads, i.head_dim);
    printf("context       trained %d, planned %d (%d sinks), batch %d, sessions %d\n", i.n_ctx_train, i.n_ctx, i.n_sinks,
           i.max_batch, i.max_sessions);
    printf("rope theta    %g\nnorm eps      %g\n", i.rope_theta, i.norm_eps);
    printf("kernels       %s\n\n", sm_runtime_isa(L.rt));
    char plan[4096];
    sm_model_describe(L.model, plan, sizeof plan, nullptr);
    fputs(plan, stdout);
    return 0;
}

int cmd_logits(int argc, char **argv) {
    Args a(argc, argv, 2);
    ModelOptions mo;
    read_model_options(a, mo);
    std::vector<int32_t> ids;
    std::string out_path;
    const bool has_ids = a.ids("--tokens", &ids);
    const bool has_out = a.str("--out", &out_path);
    if (!a.finish("logits")) return 2;
    if (!has_ids || ids.empty() || !has_out) return usage_error("logits needs --tokens 1,2,3 and --out FILE");
    mo.all_logits = true;
    Loaded L;
    if (!load_model(mo, L)) return 1;
    sm_session *s = nullptr;
    sm_status st = L.open_session(nullptr, &s);
    if (st != SM_OK) return report(L.rt, st, "session");
    if (!apply_adapters(L, s)) return 1;
    const size_t V = static_cast<size_t>(L.info.n_vocab);
    std::vector<float> logits(ids.size() * V);
    st = sm_session_eval(s, ids.data(), ids.size(), logits.data(), logits.size());
    if (st != SM_OK) return report(L.rt, st, "eval");
    FILE *f = fopen(out_path.c_str(), "wb");
    if (!f || fwrite(logits.data(), sizeof(float), logits.size(), f) != logits.size() || fclose(f) != 0) {
        fprintf(stderr, "error: cannot write '%s'\n", out_path.c_str());
        return 1;
    }
    fprintf(stderr, "wrote %zu rows of %zu logits to %s\n", ids.size(), V, out_path.c_str());
    sm_session_destroy(s);
    return 0;
}

int cmd_convert(int argc, char **argv) {
    Args a(argc, argv, 2);
    std::string bin, tok, out;
    const bool ok = a.str("--llama2c", &bin) & a.str("--tokenizer", &tok) & a.str("--out", &out);
    if (!a.finish("convert")) return 2;
    if (!ok) return usage_error("convert needs --llama2c CHECKPOINT --tokenizer TOKENIZER.bin --out MODEL.gguf");
    sm_runtime_desc rd = sm_runtime_desc_default();
    rd.memory_budget = 4096;
    sm_runtime *rt = nullptr;
    sm_status st = sm_runtime_create(&rd, &rt);
    if (st != SM_OK) return usage_error("cannot create a runtime");
    st = sm_convert_llama2c(rt, bin.c_str(), tok.c_str(), out.c_str());
    if (st != SM_OK) {
        report(rt, st, "convert");
        sm_runtime_destroy(rt);
        return 1;
    }
    sm_runtime_destroy(rt);
    fprintf(stderr, "wrote %s\n", out.c_str());
    return 0;
}
