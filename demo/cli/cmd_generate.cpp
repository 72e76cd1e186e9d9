// smallmind generate: a prompt in, a story out. Text on stdout, statistics on stderr.
#include "commands.h"
#include "demo/common/cli_model.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace {
double seconds() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}
} // namespace

int cmd_generate(int argc, char **argv) {
    Args a(argc, argv, 2);
    ModelOptions mo;
    read_model_options(a, mo);
    std::string prompt;
    std::vector<int32_t> prompt_ids;
    const bool has_prompt = a.str("--prompt", &prompt);
    const bool has_ids = a.ids("--tokens", &prompt_ids);
    int64_t n = 200, top_k = 40, seed = 42, step_budget = 0, window = 64;
    // Greedy by default: the same command prints the same story everywhere (--temp 0.8
    // samples; --seed picks the story).
    float temp = 0.0f, top_p = 0.95f, min_p = 0.05f, rep = 1.0f, freq = 0.0f, pres = 0.0f;
    a.i64("-n", &n);
    a.f32("--temp", &temp);
    a.i64("--top-k", &top_k);
    a.f32("--top-p", &top_p);
    a.f32("--min-p", &min_p);
    a.f32("--repeat-penalty", &rep);
    a.f32("--frequency-penalty", &freq);
    a.f32("--presence-penalty", &pres);
    a.i64("--penalty-window", &window);
    a.i64("--seed", &seed);
    a.i64("--step-budget-us", &step_budget);
    std::vector<std::string> stops;
    for (std::string s; a.str("--stop", &s);) stops.push_back(s);
    const bool print_ids = a.flag("--ids");
    const bool ignore_eos = a.flag("--ignore-eos");
    if (!a.finish("generate")) return 2;
    if (has_prompt && has_ids) return usage_error("generate: give --prompt or --tokens, not both");
    if (!has_prompt && !has_ids) prompt = "Once upon a time";
    if (n < 0 || step_budget < 0) return usage_error("generate: -n and --step-budget-us must be >= 0");

    Loaded L;
    if (!load_model(mo, L)) return 1;
    sm_session_desc sd = sm_session_desc_default();
    sd.sampler.temperature = temp;
    sd.sampler.top_k = static_cast<int32_t>(top_k);
    sd.sampler.top_p = top_p;
    sd.sampler.min_p = min_p;
    sd.sampler.repeat_penalty = rep;
    sd.sampler.frequency_penalty = freq;
    sd.sampler.presence_penalty = pres;
    sd.sampler.penalty_window = static_cast<int32_t>(window);
    sd.sampler.seed = static_cast<uint64_t>(seed);
    sd.max_tokens = static_cast<int32_t>(n);
    sd.stop_at_eos = !ignore_eos;
    std::vector<const char *> stop_ptrs;
    for (auto &s : stops) stop_ptrs.push_back(s.c_str());
    sd.stop_strings = stop_ptrs.data();
    sd.n_stop_strings = stop_ptrs.size();
    sm_session *s = nullptr;
    sm_status st = L.open_session(&sd, &s);
    if (st != SM_OK) return report(L.rt, st, "session");
    if (!apply_adapters(L, s)) return 1;

    // The prompt as text: given, or the decoded --tokens (minus SentencePiece's leading
    // space after BOS, as generated text is shown).
    std::string shown = prompt;
    if (has_ids) {
        st = sm_session_submit_tokens(s, prompt_ids.data(), prompt_ids.size());
        if (st == SM_OK && strcmp(L.info.tokenizer, "none") != 0) {
            std::vector<char> buf(prompt_ids.size() * 64 + 16);
            size_t len = 0;
            st = sm_detokenize(L.model, prompt_ids.data(), prompt_ids.size(), buf.data(), buf.size(), &len);
            shown.assign(buf.data(), len);
            if (!prompt_ids.empty() && prompt_ids[0] == L.info.bos && strcmp(L.info.tokenizer, "llama") == 0 && !shown.empty() &&
                shown[0] == ' ')
                shown.erase(0, 1);
        }
    } else {
        st = sm_session_submit_text(s, prompt.data(), prompt.size());
    }
    if (st != SM_OK) return report(L.rt, st, "prompt");
    sm_session_info si;
    sm_session_get_info(s, &si);
    const int n_prompt = si.n_pending;
    if (!print_ids) fwrite(shown.data(), 1, shown.size(), stdout);
    fflush(stdout);

    // Generate, printing as tokens arrive.
    const double t0 = seconds();
    double t_first = 0;
    size_t n_gen = 0, n_steps = 0;
    sm_finish_reason finish = SM_FINISH_NONE;
    bool done = false;
    while (!done) {
        sm_step_result r;
        st = sm_session_step(s, static_cast<uint32_t>(step_budget), &r);
        if (st != SM_OK) return report(L.rt, st, "step");
        n_steps++;
        if (r.n_tokens && n_gen == 0) t_first = seconds();
        n_gen += r.n_tokens;
        if (print_ids) {
            for (size_t i = 0; i < r.n_tokens; i++) printf("%d\n", r.tokens[i]);
        } else {
            fwrite(r.text, 1, r.text_len, stdout);
        }
        fflush(stdout);
        if (r.finish != SM_FINISH_NONE) {
            finish = r.finish;
            done = true;
        }
        if (r.phase == SM_PHASE_DONE && r.n_tokens == 0 && r.text_len == 0 && r.units == 0) done = true;
    }
    const double t1 = seconds();
    if (!print_ids && isatty(1)) printf("\n");
    static const char *why[] = {"none", "eos", "max tokens", "stop string", "choice", "cancelled"};
    sm_memory_stats ms;
    sm_runtime_memory(L.rt, &ms);
    fprintf(stderr, "\n[%s, %s, %lld threads] prompt %d + generated %zu tokens in %.1f ms", L.info.name, sm_runtime_isa(L.rt),
            (long long)mo.threads, n_prompt, n_gen, (t1 - t0) * 1e3);
    // With sliced steps the first token's arrival separates prefill from decode.
    if (n_steps > 1 && t_first > 0 && n_gen > 1)
        fprintf(stderr, " (prefill %.1f ms, decode %.1f tok/s)", (t_first - t0) * 1e3, (n_gen - 1) / (t1 - t_first));
    fprintf(stderr, " | %zu steps | stop: %s | arena %zu bytes\n", n_steps, why[finish], ms.used);
    sm_session_destroy(s);
    return 0;
}
