// `smallmind bench-train`: AdamW training steps of a random Llama-shaped model on random
// tokens. Median ms per step after warm-up steps, tokens/s, GFLOP/s against the
// machine's FP32 FMA peak, heap allocations per step, the trainer's bytes; with a frame
// budget, the same steps sliced into frames: overrun p99 / max and sliced tokens/s.
//
// FLOPs per step, as stated in the output: 6 x parameters x tokens (forward 2, backward
// 4 per parameter and token) plus attention 12 x layers x q_dim x T per token (scores and
// weighted values, forward and backward, over the full T x T square).
// With --model M --lora-rank R: LoRA training on that model, frozen in its own type. FLOPs:
// 4 x the model's parameters x tokens (forward, and dx backward through the frozen base),
// plus 6 x adapter parameters x tokens, plus attention as above.
#include "perf/perf_commands.h"

#include "alloc_counter.h"
#include "demo/common/cli_args.h"
#include "demo/common/cli_model.h"
#include "shape_model.h"
#include "machine_limits.h"
#include "stats.h"

#include "smallmind/smallmind.h"

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

double now_ms() { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

} // namespace

int cmd_bench_train(int argc, char **argv) {
    Args a(argc, argv, 2);
    int64_t dim = 288, hidden = 768, layers = 6, heads = 6, kv_heads = 0, vocab = 512, batch = 4, seq = 64, threads = 1;
    int64_t steps = 10, warmup = 2, frame_budget = 0, lora_rank = 0;
    std::string model_path, lora_targets = "q,k,v,o,gate,up,down";
    a.str("--model", &model_path);
    a.i64("--lora-rank", &lora_rank);
    a.str("--lora-targets", &lora_targets);
    a.i64("--dim", &dim);
    a.i64("--hidden", &hidden);
    a.i64("--layers", &layers);
    a.i64("--heads", &heads);
    a.i64("--kv-heads", &kv_heads);
    a.i64("--vocab-size", &vocab);
    a.i64("--batch", &batch);
    a.i64("--seq", &seq);
    a.i64("--threads", &threads);
    a.i64("--steps", &steps);
    a.i64("--warmup-steps", &warmup);
    a.i64("--frame-budget-us", &frame_budget);
    const bool json = a.flag("--json");
    const bool recompute = a.flag("--recompute");
    if (!a.finish("bench-train")) return 2;
    if (steps < 1 || warmup < 0 || threads < 1) {
        fprintf(stderr, "error: --steps and --threads must be positive\n");
        return 2;
    }

    uint32_t target_bits = 0;
    if (lora_rank > 0 && (model_path.empty() || !parse_lora_targets(lora_targets, &target_bits))) {
        fprintf(stderr, "error: --lora-rank needs --model PATH and --lora-targets from q,k,v,o,gate,up,down\n");
        return 2;
    }
    std::string path = model_path, shape_path;
    if (path.empty()) {
        ShapeSpec s;
        s.dim = static_cast<int>(dim), s.hidden = static_cast<int>(hidden), s.layers = static_cast<int>(layers);
        s.heads = static_cast<int>(heads), s.kv_heads = static_cast<int>(kv_heads), s.vocab = static_cast<int>(vocab);
        s.ctx = static_cast<int>(seq);
        path = shape_path = "/tmp/smallmind-bench-train-" + std::to_string(getpid()) + ".gguf";
        if (!write_shape_model(s, path)) return 1;
    }

    sm_runtime_desc rd = sm_runtime_desc_default();
    rd.threads = static_cast<int>(threads);
    rd.memory_budget = size_t(2) << 30;
    sm_runtime *rt = nullptr;
    sm_model *model = nullptr;
    sm_trainer *t = nullptr;
    int rc = 1;
    if (sm_runtime_create(&rd, &rt) != SM_OK) {
        fprintf(stderr, "error: runtime: %s\n", rt ? sm_last_error(rt) : "cannot create");
        if (!shape_path.empty()) unlink(shape_path.c_str());
        return 1;
    }
    sm_model_desc md = sm_model_desc_default();
    md.n_ctx = static_cast<int>(seq) < 16 ? 16 : static_cast<int>(seq);
    md.max_batch = 16;
    sm_trainer_desc td = sm_trainer_desc_default();
    td.batch = static_cast<int>(batch);
    td.seq_len = static_cast<int>(seq);
    td.init_random = model_path.empty() ? 1 : 0;
    td.recompute = recompute ? 1 : 0;
    if (lora_rank > 0) {
        md.max_adapters = 1;
        md.max_lora_rank = static_cast<int32_t>(lora_rank);
        td.mode = SM_TRAIN_LORA;
        td.lora_rank = static_cast<int32_t>(lora_rank);
        td.lora_targets = target_bits;
    }
    td.lr = 1e-4f;
    td.warmup_steps = 1;
    td.total_steps = 1000000;
    const int64_t total_steps = warmup + steps * (frame_budget > 0 ? 2 : 1);
    std::vector<int32_t> tokens(static_cast<size_t>((total_steps + 2) * batch * seq + 1));
    std::mt19937 g(1);
    for (auto &x : tokens) x = static_cast<int32_t>(g() % static_cast<uint32_t>(vocab));
    sm_model_info mi{};
    if (sm_model_load(rt, path.c_str(), nullptr, &md, &model) != SM_OK || sm_model_get_info(model, &mi) != SM_OK ||
        sm_trainer_create(model, &td, &t) != SM_OK) {
        fprintf(stderr, "error: %s\n", sm_last_error(rt));
    } else {
        for (auto &x : tokens) x %= mi.n_vocab;
        if (sm_trainer_set_tokens(t, tokens.data(), tokens.size(), 0.0f) != SM_OK)
            fprintf(stderr, "error: %s\n", sm_last_error(rt));
        dim = mi.dim, hidden = mi.hidden_dim, layers = mi.n_layers, heads = mi.n_heads, vocab = mi.n_vocab;
        sm_trainer_info info;
        sm_trainer_get_info(t, &info);
        sm_train_result r;
        for (int64_t i = 0; i < warmup; i++) sm_trainer_step(t, 0, &r);
        std::vector<double> ms;
        ms.reserve(static_cast<size_t>(steps));
        const uint64_t allocs0 = heap_allocations();
        for (int64_t i = 0; i < steps; i++) {
            const double t0 = now_ms();
            sm_trainer_step(t, 0, &r);
            ms.push_back(now_ms() - t0);
        }
        const double allocs = static_cast<double>(heap_allocations() - allocs0) / static_cast<double>(steps);
        const double tokens_per_step = static_cast<double>(batch * seq);
        const double med = median(ms), tok_s = tokens_per_step / med * 1000.0;
        const double attn = 12.0 * layers * (dim / heads * heads) * seq * tokens_per_step;
        const double flops = lora_rank > 0 ? (4.0 * static_cast<double>(mi.n_params) + 6.0 * static_cast<double>(info.n_params)) *
                                                     tokens_per_step +
                                                 attn
                                           : 6.0 * static_cast<double>(info.n_params) * tokens_per_step + attn;
        const double gflops = flops / (med * 1e6);
        const double peak = sm::perf::fma_peak_gflops(sm::perf::FmaWidth::Avx2, static_cast<int>(threads), 3);

        double sliced_tok_s = 0, p99 = 0, mx = 0;
        if (frame_budget > 0) {
            std::vector<double> over;
            over.reserve(static_cast<size_t>(steps) * 4096);
            double busy = 0;
            int64_t done = 0;
            const int64_t target = r.step + steps;
            while (r.step < target) {
                const double t0 = now_ms();
                sm_trainer_step(t, static_cast<uint32_t>(frame_budget), &r);
                const double took = now_ms() - t0;
                busy += took;
                over.push_back(took * 1000.0 - static_cast<double>(frame_budget));
                done++;
            }
            sliced_tok_s = tokens_per_step * static_cast<double>(steps) / busy * 1000.0;
            p99 = percentile(over, 99);
            mx = percentile(over, 100);
            if (p99 < 0) p99 = 0;
            if (mx < 0) mx = 0;
        }
        if (json) {
            printf("{\"tok_s\": %.1f, \"ms_per_step\": %.3f, \"gflops\": %.2f, \"peak_gflops\": %.1f, \"allocs_per_step\": %.2f, "
                   "\"trainer_bytes\": %zu, \"params\": %lld, \"activation_bytes\": %zu, \"model_bytes\": %zu, \"weight_type\": "
                   "\"%s\"",
                   tok_s, med, gflops, peak, allocs, info.total_bytes, static_cast<long long>(info.n_params),
                   info.activation_bytes, mi.weight_bytes, mi.weight_type);
            if (frame_budget > 0)
                printf(", \"overrun_us_p99\": %.1f, \"overrun_us_max\": %.1f, \"sliced_tok_s\": %.1f, \"unsliced_tok_s\": %.1f",
                       p99, mx, sliced_tok_s, tok_s);
            printf("}\n");
        } else {
            printf("bench-train: dim %lld hidden %lld layers %lld heads %lld vocab %lld, batch %lld x seq %lld, %lld thread(s)\n",
                   static_cast<long long>(dim), static_cast<long long>(hidden), static_cast<long long>(layers),
                   static_cast<long long>(heads), static_cast<long long>(vocab), static_cast<long long>(batch),
                   static_cast<long long>(seq), static_cast<long long>(threads));
            printf("  parameters %lld, trainer %.1f MiB (%.1f bytes/parameter; parameters+grads+moments %.1f MiB, activations "
                   "%.1f MiB)\n",
                   static_cast<long long>(info.n_params), info.total_bytes / 1048576.0,
                   static_cast<double>(info.total_bytes) / static_cast<double>(info.n_params), info.param_bytes / 1048576.0,
                   info.activation_bytes / 1048576.0);
            printf("  median %.2f ms/step over %lld steps (%lld warm-up excluded): %.0f tokens/s\n", med,
                   static_cast<long long>(steps), static_cast<long long>(warmup), tok_s);
            printf("  %.2f GFLOP/s (6 x parameters x tokens + attention 12 x layers x q_dim x T per token), %.1f%% of the %.1f "
                   "GFLOP/s "
                   "AVX2 FP32 FMA peak at %lld thread(s)\n",
                   gflops, peak > 0 ? 100.0 * gflops / peak : 0.0, peak, static_cast<long long>(threads));
            printf("  heap allocations per step: %.2f\n", allocs);
            if (lora_rank > 0)
                printf("  LoRA rank %lld on a %s model of %.1f MiB (%lld parameters): trainer %.1f MiB = %.0f%% of the model\n",
                       static_cast<long long>(lora_rank), mi.weight_type, mi.weight_bytes / 1048576.0,
                       static_cast<long long>(mi.n_params), info.total_bytes / 1048576.0,
                       100.0 * static_cast<double>(info.total_bytes) / static_cast<double>(mi.weight_bytes));
            if (frame_budget > 0)
                printf("  frames of %lld us: overrun p99 %.0f us, max %.0f us; sliced %.0f tokens/s vs unsliced %.0f (%.0f%%)\n",
                       static_cast<long long>(frame_budget), p99, mx, sliced_tok_s, tok_s, 100.0 * sliced_tok_s / tok_s);
        }
        rc = 0;
    }
    sm_trainer_destroy(t);
    sm_model_destroy(model);
    sm_runtime_destroy(rt);
    if (!shape_path.empty()) unlink(shape_path.c_str());
    return rc;
}
