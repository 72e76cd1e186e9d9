// A simulated 60 FPS game loop: each frame gives the runtime a fixed budget
// (sm_model_step for K sessions generating at once), then sleeps out the rest of the
// 16.7 ms frame as a game would (optionally reading --evict-mb of its own memory first). Reports how long steps really took (p50
// / p99 / max), how far they overran the budget, and the throughput of the sliced work against the same generation run unsliced.
// On a shared machine a step can also be long because the OS or the hypervisor took the CPU away mid-step; the calling thread's
// CPU time does not count that, so the overruns are reported in both clocks (wall: what the game sees; cpu: what the runtime's
// own budgeting is responsible for).
#include "perf/perf_commands.h"

#include "cpu_clock.h"
#include "stats.h"

#include "demo/common/cli_args.h"
#include "demo/common/cli_model.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

namespace {

double now_us() {
    using namespace std::chrono;
    return duration<double, std::micro>(steady_clock::now().time_since_epoch()).count();
}

struct Npcs {
    std::vector<sm_session *> s;
    ~Npcs() {
        for (auto *x : s) sm_session_destroy(x);
    }
};

// K sessions generating without end (ring KV), each from its own prompt token.
bool start(sm_model *m, sm_runtime *rt, int k, Npcs &n) {
    for (int i = 0; i < k; i++) {
        sm_session_desc d = sm_session_desc_default();
        d.sampler.temperature = 0.8f;
        d.sampler.seed = 1000 + static_cast<uint64_t>(i);
        d.stop_at_eos = 0;
        sm_session *s = nullptr;
        sm_status st = sm_session_create(m, &d, &s);
        if (st != SM_OK) {
            report(rt, st, "session");
            return false;
        }
        n.s.push_back(s);
        const int32_t prompt[2] = {1, 2 + i};
        sm_session_submit_tokens(s, prompt, 2);
    }
    return true;
}

size_t drain(Npcs &n) {
    size_t tokens = 0;
    for (auto *s : n.s) {
        sm_step_result r;
        sm_session_poll(s, &r);
        tokens += r.n_tokens;
    }
    return tokens;
}

// Keeps a value the optimizer would otherwise drop with the loop that made it.
inline void keep(uint8_t v) {
#if defined(__GNUC__)
    __asm__ volatile("" : : "r"(v));
#else
    static volatile uint8_t sink;
    sink = v;
#endif
}

} // namespace

int cmd_frames(int argc, char **argv) {
    Args a(argc, argv, 2);
    ModelOptions mo;
    read_model_options(a, mo);
    int64_t budget = 2000, frames = 300;
    a.i64("--budget-us", &budget);
    a.i64("--frames", &frames);
    const int64_t sessions = mo.sessions; // --sessions is a model option (KV slots planned)
    const bool json = a.flag("--json");
    const bool no_sleep = a.flag("--no-sleep");
    int64_t evict_mb = 0; // the game's own memory traffic between frames
    a.i64("--evict-mb", &evict_mb);
    if (!a.finish("frames")) return 2;
    if (budget < 1 || frames < 1 || sessions < 1 || sessions > 64 || evict_mb < 0 || evict_mb > 4096)
        return usage_error("frames: bad --budget-us, --frames, --sessions or --evict-mb");
    std::vector<uint8_t> other(static_cast<size_t>(evict_mb) << 20, 1);
    if (mo.ctx <= 0) mo.ctx = 256;
    Loaded L;
    if (!load_model(mo, L)) return 1;

    // The reference is the same generation unsliced: after each block of frames, fresh
    // sessions (same seeds, so the same tokens at the same positions) generate as many
    // tokens back to back. Blocks alternate because a shared host's speed drifts over
    // seconds; the same positions because attention costs more as the context fills.
    constexpr int kBlocks = 4;
    {
        // First the runtime learns its unit costs (a game's first frames would): 0.3 s of
        // generation, not measured.
        Npcs n;
        if (!start(L.model, L.rt, static_cast<int>(sessions), n)) return 1;
        for (const double t0 = now_us(); now_us() - t0 < 3e5;) {
            sm_model_step(L.model, static_cast<uint32_t>(budget), nullptr);
            drain(n);
        }
    }
    const double steal0 = steal_seconds();
    double unsliced_us = 0, unsliced_cpu_us = 0;
    size_t unsliced_tokens = 0;
    std::vector<double> step_us, overrun_us, cpu_overrun_us;
    double work_us = 0, work_cpu_us = 0;
    size_t tokens = 0;
    const double frame_us = 1e6 / 60.0;
    for (int blk = 0; blk < kBlocks; blk++) {
        size_t block_tokens = 0;
        {
            Npcs n;
            if (!start(L.model, L.rt, static_cast<int>(sessions), n)) return 1;
            for (int64_t f = frames * blk / kBlocks; f < frames * (blk + 1) / kBlocks; f++) {
                const double t0 = now_us(), c0 = thread_cpu_us();
                sm_model_step(L.model, static_cast<uint32_t>(budget), nullptr);
                const double dt = now_us() - t0, dc = thread_cpu_us() - c0;
                cpu_overrun_us.push_back(dc > budget ? dc - budget : 0);
                block_tokens += drain(n);
                step_us.push_back(dt);
                overrun_us.push_back(dt > budget ? dt - budget : 0);
                work_us += dt;
                work_cpu_us += dc;
                // Between frames a game reads its own data: a sweep of --evict-mb MiB stands
                // for it (it pushes the model out of the caches as a game's frame would).
                uint8_t acc = 0;
                for (size_t i = 0; i < other.size(); i += 64) acc = static_cast<uint8_t>(acc + other[i]);
                keep(acc);
                if (!no_sleep) {
                    const double left = frame_us - (now_us() - t0);
                    if (left > 0) std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(left)));
                }
            }
        }
        tokens += block_tokens;
        Npcs n;
        if (!start(L.model, L.rt, static_cast<int>(sessions), n)) return 1;
        const double t0 = now_us(), c0 = thread_cpu_us();
        size_t got = 0;
        while (got < block_tokens) { // 50 ms steps: many tokens each, so unsliced in effect
            sm_model_step(L.model, 50000, nullptr);
            got += drain(n);
        }
        unsliced_us += now_us() - t0;
        unsliced_cpu_us += thread_cpu_us() - c0;
        unsliced_tokens += got;
    }
    const double steal_s = steal0 >= 0 ? steal_seconds() - steal0 : -1; // -1: not known
    const double unsliced_tok_s = unsliced_us > 0 ? unsliced_tokens / (unsliced_us * 1e-6) : 0;
    const double unsliced_cpu_tok_s = unsliced_cpu_us > 0 ? unsliced_tokens / (unsliced_cpu_us * 1e-6) : 0;
    const double sliced_tok_s = tokens / (work_us * 1e-6);
    const double sliced_cpu_tok_s = work_cpu_us > 0 ? tokens / (work_cpu_us * 1e-6) : 0;
    double mx = 0, omx = 0;
    for (double x : step_us) mx = x > mx ? x : mx;
    for (double x : overrun_us) omx = x > omx ? x : omx;
    double comx = 0;
    for (double x : cpu_overrun_us) comx = x > comx ? x : comx;
    std::string name = mo.path.substr(mo.path.find_last_of('/') + 1);
    if (json) {
        printf(
            "{\"model\": \"%s\", \"type\": \"%s\", \"threads\": %lld, \"sessions\": %lld, \"budget_us\": %lld, \"frames\": %lld, "
            "\"step_us_p50\": %.1f, \"step_us_p99\": %.1f, \"step_us_max\": %.1f, \"overrun_us_p99\": %.1f, "
            "\"overrun_us_max\": %.1f, \"cpu_overrun_us_p99\": %.1f, \"cpu_overrun_us_max\": %.1f, \"tokens\": %zu, "
            "\"sliced_tok_s\": %.2f, \"sliced_cpu_tok_s\": %.2f, \"unsliced_tok_s\": %.2f, \"unsliced_cpu_tok_s\": %.2f, "
            "\"steal_s\": %.2f}\n",
            name.c_str(), L.info.weight_type, (long long)mo.threads, (long long)sessions, (long long)budget, (long long)frames,
            percentile(step_us, 50), percentile(step_us, 99), mx, percentile(overrun_us, 99), omx, percentile(cpu_overrun_us, 99),
            comx, tokens, sliced_tok_s, sliced_cpu_tok_s, unsliced_tok_s, unsliced_cpu_tok_s, steal_s);
        return 0;
    }
    printf("%s (%s), %lld thread(s), %lld session(s), budget %lld us, %lld frames at 60 FPS\n", name.c_str(), L.info.weight_type,
           (long long)mo.threads, (long long)sessions, (long long)budget, (long long)frames);
    printf("step us     p50 %.1f   p99 %.1f   max %.1f\n", percentile(step_us, 50), percentile(step_us, 99), mx);
    printf("overrun us  p99 %.1f   max %.1f   (thread CPU time: p99 %.1f   max %.1f)\n", percentile(overrun_us, 99), omx,
           percentile(cpu_overrun_us, 99), comx);
    printf("tokens %zu: sliced %.1f tok/s of step time, unsliced %.1f tok/s (%.0f%%)\n", tokens, sliced_tok_s, unsliced_tok_s,
           100.0 * sliced_tok_s / unsliced_tok_s);
    printf("       per CPU time of the calling thread: sliced %.1f tok/s, unsliced %.1f tok/s (%.0f%%)\n", sliced_cpu_tok_s,
           unsliced_cpu_tok_s, unsliced_cpu_tok_s > 0 ? 100.0 * sliced_cpu_tok_s / unsliced_cpu_tok_s : 0.0);
    if (steal_s >= 0) printf("steal (the hypervisor's, all virtual CPUs) during the run: %.2f s\n", steal_s);
    return 0;
}
