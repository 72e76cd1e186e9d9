// Model throughput, measured like llama-bench so the two compare side by side on the same
// file: prefill of pp tokens from an empty context (tok/s), decode of tg tokens one at a
// time (tok/s, and each token's latency), the arena size, and heap allocations made
// after loading (should be 0).
#include "perf/perf_commands.h"

#include "alloc_counter.h"
#include "stats.h"
#include "synth_adapter.h"

#include "demo/common/cli_args.h"
#include "demo/common/cli_model.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
#include <unistd.h>

namespace {

double now_s() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// K sessions decoding together (one batched forward per token, sm_model_step), without
// adapters and, with rank > 0, each with its own random adapter: aggregate decode tok/s,
// the two runs interleaved rep by rep so that machine noise hits both alike.
int bench_sessions(Loaded &L, const ModelOptions &mo, int64_t tg, int64_t reps, int64_t rank, bool json) {
    const int K = static_cast<int>(mo.sessions);
    std::vector<sm_session *> ss(static_cast<size_t>(K));
    std::vector<sm_adapter *> ads;
    sm_session_desc sd = sm_session_desc_default();
    sd.max_tokens = static_cast<int32_t>(tg);
    sd.stop_at_eos = 0;
    for (auto &s : ss) {
        const sm_status st = L.open_session(&sd, &s);
        if (st != SM_OK) return report(L.rt, st, "session");
    }
    if (rank > 0) {
        for (int i = 0; i < K; i++) {
            SynthAdapter sa;
            sa.type = "f16"; // as adapters ship (llama.cpp's converter writes f16)
            sa.rank = static_cast<int32_t>(rank);
            sa.seed = static_cast<uint64_t>(100 + i);
            char path[256];
            snprintf(path, sizeof path, "/tmp/smallmind_bench_adapter_%d_%d.gguf", static_cast<int>(getpid()), i);
            if (!write_synth_adapter(L.info, sa, path)) return 1;
            sm_adapter *ad = nullptr;
            const sm_status st = sm_adapter_load(L.model, path, &ad);
            remove(path);
            if (st != SM_OK) return report(L.rt, st, "adapter");
            ads.push_back(ad);
        }
    }
    auto run = [&](bool with_lora) {
        for (int i = 0; i < K; i++) {
            sm_session_reset(ss[static_cast<size_t>(i)]);
            sm_session_set_adapters(ss[static_cast<size_t>(i)], with_lora ? &ads[static_cast<size_t>(i)] : nullptr, nullptr,
                                    with_lora ? 1 : 0);
            const int32_t tok = 1 + i * 37 % (L.info.n_vocab - 1);
            sm_session_submit_tokens(ss[static_cast<size_t>(i)], &tok, 1);
        }
        const double t0 = now_s();
        sm_model_step(L.model, 0, nullptr); // no deadline: until every session has its tg tokens
        return static_cast<double>(K) * static_cast<double>(tg) / (now_s() - t0);
    };
    run(false); // warm-up
    std::vector<double> base, lora;
    for (int64_t r = 0; r < reps; r++) {
        base.push_back(run(false));
        if (rank > 0) lora.push_back(run(true));
    }
    const double b = median(base), l = rank > 0 ? median(lora) : 0.0;
    std::string name = mo.path.substr(mo.path.find_last_of('/') + 1);
    if (json) {
        printf("{\"model\": \"%s\", \"type\": \"%s\", \"isa\": \"%s\", \"threads\": %lld, \"sessions\": %d, \"tg\": %lld, "
               "\"tg_tok_s\": %.2f",
               name.c_str(), L.info.weight_type, sm_runtime_isa(L.rt), (long long)mo.threads, K, (long long)tg, b);
        if (rank > 0) printf(", \"lora_rank\": %lld, \"tg_tok_s_lora\": %.2f, \"lora_ratio\": %.3f", (long long)rank, l, l / b);
        printf(", \"reps\": %lld}\n", (long long)reps);
    } else {
        printf("%s, %d sessions decoding %lld tokens each, %lld threads (%s): %.1f tok/s", name.c_str(), K, (long long)tg,
               (long long)mo.threads, sm_runtime_isa(L.rt), b);
        if (rank > 0) printf("; each with its own rank-%lld adapter: %.1f tok/s (%.1f%%)", (long long)rank, l, 100.0 * l / b);
        printf(" (medians of %lld)\n", (long long)reps);
    }
    for (auto &s : ss) sm_session_destroy(s);
    return 0;
}

} // namespace

int cmd_bench(int argc, char **argv) {
    Args a(argc, argv, 2);
    ModelOptions mo;
    read_model_options(a, mo);
    std::vector<int32_t> pps = {128, 512};
    a.ids("--pp", &pps);
    int64_t tg = 128, reps = 5;
    a.i64("--tg", &tg);
    a.i64("--reps", &reps);
    int64_t lora_rank = 0;
    a.i64("--lora-rank", &lora_rank);
    const bool json = a.flag("--json");
    if (!a.finish("bench")) return 2;
    if (reps < 1 || tg < 0) return usage_error("bench: --reps >= 1 and --tg >= 0");
    int max_pp = 1;
    for (int p : pps) {
        if (p < 1) return usage_error("bench: --pp values must be >= 1");
        max_pp = p > max_pp ? p : max_pp;
    }
    if (lora_rank < 0 || lora_rank > 1024) return usage_error("bench: --lora-rank must be in [0, 1024]");
    if (mo.sessions > 1) {
        if (mo.ctx <= 0) mo.ctx = tg + 8;
        if (lora_rank > 0) mo.adapter_slots = mo.sessions, mo.adapter_rank = lora_rank;
        Loaded L;
        if (!load_model(mo, L)) return 1;
        return bench_sessions(L, mo, tg, reps, lora_rank, json);
    }
    if (lora_rank > 0) return usage_error("bench: --lora-rank gives each of --sessions K (> 1) its own adapter");
    if (mo.ctx <= 0) mo.ctx = max_pp + tg + 8;
    if (mo.batch == 64) mo.batch = max_pp < 512 ? max_pp : 512; // prefill in one chunk when it fits
    Loaded L;
    if (!load_model(mo, L)) return 1;
    sm_session *s = nullptr;
    sm_status st = L.open_session(nullptr, &s);
    if (st != SM_OK) return report(L.rt, st, "session");
    if (!apply_adapters(L, s)) return 1;

    // Token ids: a fixed pseudo-random sequence over the vocabulary (as llama-bench does).
    std::vector<int32_t> toks(static_cast<size_t>(max_pp + tg + 1));
    uint64_t x = 88172645463325252ull;
    for (auto &t : toks) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        t = static_cast<int32_t>(x % static_cast<uint64_t>(L.info.n_vocab));
    }

    // Warm-up (first touch of the weights and caches), not measured.
    sm_session_eval(s, toks.data(), 8, nullptr, 0);
    sm_session_reset(s);

    // Every buffer the measurement itself needs is sized before counting allocations, and
    // statistics are computed after: the count is the runtime's alone.
    std::vector<std::vector<double>> pp_samples(pps.size());
    for (auto &v : pp_samples) v.reserve(static_cast<size_t>(reps));
    std::vector<double> tg_rates, per_token_ms;
    tg_rates.reserve(static_cast<size_t>(reps));
    per_token_ms.reserve(static_cast<size_t>(reps * tg));
    const uint64_t allocs0 = heap_allocations();
    for (size_t i = 0; i < pps.size(); i++) {
        for (int64_t r = 0; r < reps; r++) {
            sm_session_reset(s);
            const double t0 = now_s();
            st = sm_session_eval(s, toks.data(), static_cast<size_t>(pps[i]), nullptr, 0);
            const double t1 = now_s();
            if (st != SM_OK) return report(L.rt, st, "prefill");
            pp_samples[i].push_back(pps[i] / (t1 - t0));
        }
    }
    for (int64_t r = 0; r < reps && tg > 0; r++) {
        sm_session_reset(s);
        double total = 0;
        for (int64_t i = 0; i < tg; i++) {
            const double t0 = now_s();
            st = sm_session_eval(s, &toks[static_cast<size_t>(i)], 1, nullptr, 0);
            const double dt = now_s() - t0;
            if (st != SM_OK) return report(L.rt, st, "decode");
            total += dt;
            per_token_ms.push_back(dt * 1e3);
        }
        tg_rates.push_back(static_cast<double>(tg) / total);
    }
    const uint64_t allocs = heap_allocations() - allocs0;
    std::vector<double> pp_tok_s(pps.size());
    for (size_t i = 0; i < pps.size(); i++) pp_tok_s[i] = median(pp_samples[i]);
    sm_memory_stats ms;
    sm_runtime_memory(L.rt, &ms);
    const double tg_tok_s = median(tg_rates), p50 = percentile(per_token_ms, 50), p99 = percentile(per_token_ms, 99);

    std::string name = mo.path.substr(mo.path.find_last_of('/') + 1);
    if (json) {
        printf("{\"model\": \"%s\", \"type\": \"%s\", \"isa\": \"%s\", \"threads\": %lld, \"params\": %lld", name.c_str(),
               L.info.weight_type, sm_runtime_isa(L.rt), (long long)mo.threads, (long long)L.info.n_params);
        for (size_t i = 0; i < pps.size(); i++) printf(", \"pp%d_tok_s\": %.2f", pps[i], pp_tok_s[i]);
        printf(", \"tg%lld_tok_s\": %.2f, \"ms_per_token_p50\": %.4f, \"ms_per_token_p99\": %.4f, \"arena_bytes\": %zu, "
               "\"weight_bytes\": %zu, \"decode_weight_bytes\": %zu, \"heap_allocs_after_load\": %llu, \"reps\": %lld}\n",
               (long long)tg, tg_tok_s, p50, p99, ms.used, L.info.weight_bytes, L.info.decode_weight_bytes,
               (unsigned long long)allocs, (long long)reps);
        return 0;
    }
    printf("| model | type | isa | threads | test | tok/s (median of %lld) |\n|---|---|---|---:|---:|---:|\n", (long long)reps);
    for (size_t i = 0; i < pps.size(); i++)
        printf("| %s | %s | %s | %lld | pp%d | %.1f |\n", name.c_str(), L.info.weight_type, sm_runtime_isa(L.rt),
               (long long)mo.threads, pps[i], pp_tok_s[i]);
    if (tg > 0)
        printf("| %s | %s | %s | %lld | tg%lld | %.1f |\n", name.c_str(), L.info.weight_type, sm_runtime_isa(L.rt),
               (long long)mo.threads, (long long)tg, tg_tok_s);
    printf("\nms per token: p50 %.3f, p99 %.3f | weights %.1f MB read per token: %.2f GB/s at the median rate\n", p50, p99,
           L.info.decode_weight_bytes / 1e6, L.info.decode_weight_bytes * tg_tok_s / 1e9);
    printf("arena %zu bytes | heap allocations after load: %llu\n", ms.used, (unsigned long long)allocs);
    sm_session_destroy(s);
    return 0;
}
