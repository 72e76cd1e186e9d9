// smallmind finetune: trains a LoRA adapter on a frozen model (any weight type) from a
// text file, a bounded slice per call as a game would, and writes it in llama.cpp's GGUF
// LoRA format (`--lora` on generate and llama-cli read it).
#include "commands.h"

#include "demo/common/cli_model.h"
#include "demo/common/train_progress.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace {

double seconds_now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

} // namespace

int cmd_finetune(int argc, char **argv) {
    Args a(argc, argv, 2);
    int64_t batch = 4; // the trainer's (read before the model options, whose --batch is the model's)
    a.i64("--batch", &batch);
    ModelOptions mo;
    read_model_options(a, mo);
    std::string data_path, out_path, targets = "q,k,v,o,gate,up,down", from, type = "f32";
    int64_t rank = 8, steps = 0, seq = 64, warmup = -1, seed = 1, budget_us = 0, eval_every = 0, eval_seqs = 64;
    float alpha = 0.0f, lr = 1e-3f, wd = 0.0f, heldout = 0.1f, clip = 1.0f;
    a.str("--data", &data_path);
    a.str("--out", &out_path);
    a.i64("--lora-rank", &rank);
    a.f32("--lora-alpha", &alpha);
    a.str("--lora-targets", &targets);
    const bool rslora = a.flag("--rslora");
    a.str("--from", &from);
    a.str("--type", &type);
    a.i64("--steps", &steps);
    a.i64("--seq", &seq);
    a.f32("--lr", &lr);
    a.f32("--weight-decay", &wd);
    a.f32("--clip", &clip);
    a.i64("--warmup", &warmup);
    a.i64("--seed", &seed);
    a.i64("--step-budget-us", &budget_us);
    a.f32("--heldout", &heldout);
    a.i64("--eval-every", &eval_every);
    a.i64("--eval-sequences", &eval_seqs);
    const bool json = a.flag("--json");
    if (!a.finish("finetune")) return 2;
    if (data_path.empty() || out_path.empty() || steps <= 0)
        return usage_error("finetune needs --data TEXT_FILE, --steps N and --out ADAPTER.gguf");
    uint32_t target_bits = 0;
    if (!parse_lora_targets(targets, &target_bits)) return usage_error("--lora-targets is a list of q,k,v,o,gate,up,down");
    if (rank < 1 || rank > 1024) return usage_error("--lora-rank must be 1..1024");
    if (mo.path.empty()) mo.path = default_model_path();
    std::ifstream f(data_path, std::ios::binary);
    if (!f) {
        fprintf(stderr, "error: cannot read --data %s\n", data_path.c_str());
        return 1;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string text = ss.str();

    // One adapter slot to train into; --from is loaded as a --lora file (a slot of its own).
    if (!from.empty()) mo.loras.push_back(from);
    mo.adapter_slots = 1;
    mo.adapter_rank = rank;
    if (mo.budget_mb == 0) mo.budget_mb = 4096;
    mo.max_text = 65536;
    Loaded L;
    if (!load_model(mo, L)) return 1;

    sm_trainer_desc d = sm_trainer_desc_default();
    d.mode = SM_TRAIN_LORA;
    d.lora_rank = static_cast<int32_t>(rank);
    d.lora_alpha = alpha;
    d.lora_targets = target_bits;
    d.lora_rslora = rslora ? 1 : 0;
    d.lr = lr;
    d.lr_min = lr * 0.1f;
    d.weight_decay = wd;
    d.grad_clip = clip;
    d.total_steps = static_cast<int32_t>(steps);
    d.warmup_steps = static_cast<int32_t>(warmup >= 0 ? warmup : (steps / 20 < 100 ? steps / 20 : 100));
    d.batch = static_cast<int32_t>(batch);
    d.seq_len = static_cast<int32_t>(seq);
    d.seed = static_cast<uint64_t>(seed);
    if (!from.empty()) d.lora_from = L.adapters[0];
    sm_trainer *t = nullptr;
    sm_status st = sm_trainer_create(L.model, &d, &t);
    if (st != SM_OK) return report(L.rt, st, "trainer");
    st = sm_trainer_set_text(t, text.data(), text.size(), heldout);
    if (st != SM_OK) return sm_trainer_destroy(t), report(L.rt, st, "data");
    sm_trainer_info info;
    sm_trainer_get_info(t, &info);
    sm_model_info mi = L.info;
    fprintf(stderr,
            "finetune: %lld adapter parameters (rank %lld) on a %s model of %.1f MiB; trainer %.1f MiB "
            "(adapter, gradients and moments %.1f, activations %.1f, data %.1f); %lld training and %lld held-out sequences\n",
            static_cast<long long>(info.n_params), static_cast<long long>(rank), mi.weight_type, mi.weight_bytes / 1048576.0,
            info.total_bytes / 1048576.0, info.param_bytes / 1048576.0, info.activation_bytes / 1048576.0,
            info.data_bytes / 1048576.0, static_cast<long long>(info.train_sequences),
            static_cast<long long>(info.heldout_sequences));

    const bool tty = isatty(2);
    if (eval_every <= 0) eval_every = steps / 10 > 0 ? steps / 10 : 1;
    float loss_first = -1, held_first = -1, held = -1;
    if (info.heldout_sequences > 0) sm_trainer_eval(t, static_cast<int32_t>(eval_seqs), &held_first);
    sm_train_result r{};
    const double t0 = seconds_now();
    for (;;) {
        st = sm_trainer_step(t, static_cast<uint32_t>(budget_us), &r);
        if (st != SM_OK || !r.step_done) {
            if (st != SM_OK) break;
            continue;
        }
        if (loss_first < 0) loss_first = r.loss;
        const double eta = (seconds_now() - t0) / static_cast<double>(r.step) * static_cast<double>(steps - r.step);
        print_train_progress(r, steps, eta, tty, eval_every);
        if ((r.step % eval_every == 0 || r.step >= steps) && info.heldout_sequences > 0) {
            sm_trainer_eval(t, static_cast<int32_t>(eval_seqs), &held);
            print_heldout(r.step, held, tty);
        }
        if (r.step >= steps) break;
    }
    if (st != SM_OK) return sm_trainer_destroy(t), report(L.rt, st, "step");
    sm_adapter *trained = nullptr;
    sm_trainer_get_adapter(t, &trained);
    sm_trainer_destroy(t); // the adapter keeps the trained values
    st = sm_adapter_save(trained, out_path.c_str(), type.c_str());
    if (st != SM_OK) return report(L.rt, st, "save");
    fprintf(stderr, "finetune: wrote %s\n", out_path.c_str());
    if (json)
        printf(
            "{\"steps\": %lld, \"loss_first\": %.5f, \"loss_last\": %.5f, \"heldout_loss_first\": %.5f, \"heldout_loss\": %.5f, "
            "\"tok_s\": %.1f, \"trainer_bytes\": %zu, \"model_bytes\": %zu}\n",
            static_cast<long long>(r.step), loss_first, r.loss, held_first, held, r.tok_s, info.total_bytes,
            static_cast<size_t>(mi.weight_bytes));
    return 0;
}
