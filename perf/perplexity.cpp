// Perplexity of a long token sequence through the session's KV ring: the measure that
// shows whether attention sinks keep a model sane once the ring wraps. The sequence is
// a text file, a file of token ids, or N tokens the model samples itself (seeded; saved
// with --save-tokens so other settings score the very same sequence).
#include "perf/perf_commands.h"

#include "demo/common/cli_args.h"
#include "demo/common/cli_model.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

int cmd_perplexity(int argc, char **argv) {
    Args a(argc, argv, 2);
    ModelOptions mo;
    read_model_options(a, mo);
    std::string file, ids_file, save;
    int64_t generate = 0, seed = 1, skip = 0;
    const bool has_file = a.str("--file", &file), has_ids = a.str("--tokens-file", &ids_file);
    a.i64("--generate", &generate);
    a.i64("--seed", &seed);
    a.i64("--skip", &skip); // positions not scored (e.g. the part that fits the window)
    a.str("--save-tokens", &save);
    const bool json = a.flag("--json");
    if (!a.finish("perplexity")) return 2;
    if (has_file + has_ids + (generate > 0) != 1)
        return usage_error("perplexity needs one of --file, --tokens-file, --generate N");
    mo.all_logits = true;
    if (has_file) mo.max_text = 1 << 24;
    Loaded L;
    if (!load_model(mo, L)) return 1;
    sm_session *s = nullptr;
    sm_status st = L.open_session(nullptr, &s);
    if (st != SM_OK) return report(L.rt, st, "session");
    if (!apply_adapters(L, s)) return 1;

    std::vector<int32_t> toks;
    if (has_file) {
        std::ifstream f(file, std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        toks.resize(text.size() + 16);
        size_t n = 0;
        st = sm_tokenize(L.model, text.data(), text.size(), SM_TOKENIZE_ADD_BOS, toks.data(), toks.size(), &n);
        if (st != SM_OK) return report(L.rt, st, "tokenize");
        toks.resize(n);
    } else if (has_ids) {
        std::ifstream f(ids_file);
        for (int x; f >> x;) toks.push_back(x);
    } else {
        // The model's own story, sampled with a long ring (so it stays fluent).
        sm_session_desc d = sm_session_desc_default();
        d.sampler.temperature = 1.0f;
        d.sampler.top_k = 0;
        d.sampler.top_p = 1.0f;
        d.sampler.min_p = 0.0f;
        d.sampler.seed = static_cast<uint64_t>(seed);
        d.max_tokens = static_cast<int32_t>(generate);
        d.stop_at_eos = 0;
        sm_session *g = nullptr;
        sm_session_destroy(s);
        if ((st = L.open_session(&d, &g)) != SM_OK) return report(L.rt, st, "session");
        toks.push_back(L.info.bos >= 0 ? L.info.bos : 0);
        sm_session_submit_tokens(g, toks.data(), 1);
        sm_step_result r;
        do {
            sm_session_step(g, 0, &r);
            toks.insert(toks.end(), r.tokens, r.tokens + r.n_tokens);
        } while (r.finish == SM_FINISH_NONE);
        sm_session_destroy(g);
        if ((st = L.open_session(nullptr, &s)) != SM_OK) return report(L.rt, st, "session");
        if (!apply_adapters(L, s)) return 1;
    }
    if (!save.empty()) {
        std::ofstream o(save);
        for (int32_t t : toks) o << t << "\n";
    }
    if (toks.size() < 2) return usage_error("perplexity: fewer than two tokens");

    // Score token i+1 from the logits after token i, chunk by chunk through the ring.
    const size_t V = static_cast<size_t>(L.info.n_vocab), chunk = static_cast<size_t>(L.info.max_batch);
    std::vector<float> logits(chunk * V);
    double nll = 0;
    size_t scored = 0;
    for (size_t at = 0; at + 1 < toks.size(); at += chunk) {
        const size_t n = std::min(chunk, toks.size() - 1 - at);
        st = sm_session_eval(s, &toks[at], n, logits.data(), n * V);
        if (st != SM_OK) return report(L.rt, st, "eval");
        for (size_t i = 0; i < n; i++) {
            if (static_cast<int64_t>(at + i) < skip) continue;
            const float *l = &logits[i * V];
            float mx = l[0];
            for (size_t v = 1; v < V; v++) mx = l[v] > mx ? l[v] : mx;
            double sum = 0;
            for (size_t v = 0; v < V; v++) sum += std::exp(static_cast<double>(l[v] - mx));
            nll += -(static_cast<double>(l[toks[at + i + 1]] - mx) - std::log(sum));
            scored++;
        }
    }
    const double ppl = std::exp(nll / static_cast<double>(scored));
    if (json)
        printf("{\"tokens\": %zu, \"scored\": %zu, \"n_ctx\": %d, \"n_sinks\": %d, \"perplexity\": %.4f}\n", toks.size(), scored,
               L.info.n_ctx, L.info.n_sinks, ppl);
    else
        printf("%zu tokens (%zu scored), ctx %d, sinks %d: perplexity %.4f\n", toks.size(), scored, L.info.n_ctx, L.info.n_sinks,
               ppl);
    sm_session_destroy(s);
    return 0;
}
