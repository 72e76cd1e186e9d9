// smallmind train: train a model (loaded, or from scratch in a given shape) on a text
// file, a bounded slice per call as a game would, with held-out loss along the way.
// smallmind gradients: one sequence's loss and its gradient as a GGUF file.
#include "commands.h"

#include "demo/common/cli_model.h"
#include "demo/common/train_progress.h"
#include "demo/common/plot_png.h"
#include "perf/shape_model.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

bool read_all(const std::string &path, std::string *out) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    std::stringstream ss;
    ss << f.rdbuf();
    *out = ss.str();
    return true;
}

bool write_all(const std::string &path, const std::vector<uint8_t> &b) {
    FILE *f = fopen(path.c_str(), "wb");
    if (!f) return false;
    const bool ok = fwrite(b.data(), 1, b.size(), f) == b.size();
    return fclose(f) == 0 && ok;
}

double seconds_now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

} // namespace

int cmd_train(int argc, char **argv) {
    Args a(argc, argv, 2);
    std::string model_arg;
    int64_t batch = 4; // the trainer's (read before the model options, whose --batch is the model's)
    const bool from_model = a.str("--model", &model_arg);
    a.i64("--batch", &batch);
    ModelOptions mo;
    read_model_options(a, mo);
    mo.path = model_arg;
    std::string data_path, out_path, vocab, ckpt_path, resume_path, plot_path;
    int64_t dim = 0, hidden = 0, layers = 0, heads = 0, kv_heads = 0, steps = 0, seq = 64, warmup = -1, accum = 1;
    int64_t seed = 1, budget_us = 0, ckpt_every = 0, eval_every = 0, eval_seqs = 64;
    float lr = 1e-3f, lr_min = -1.0f, wd = 0.1f, heldout = 0.1f, clip = 1.0f;
    a.str("--data", &data_path);
    a.str("--out", &out_path);
    a.str("--vocab", &vocab);
    a.i64("--dim", &dim);
    a.i64("--hidden", &hidden);
    a.i64("--layers", &layers);
    a.i64("--heads", &heads);
    a.i64("--kv-heads", &kv_heads);
    a.i64("--steps", &steps);
    a.i64("--seq", &seq);
    a.f32("--lr", &lr);
    a.f32("--lr-min", &lr_min);
    a.f32("--weight-decay", &wd);
    a.f32("--clip", &clip);
    a.i64("--warmup", &warmup);
    a.i64("--accum", &accum);
    a.i64("--seed", &seed);
    a.i64("--step-budget-us", &budget_us);
    a.str("--checkpoint", &ckpt_path);
    a.i64("--checkpoint-every", &ckpt_every);
    a.str("--resume", &resume_path);
    a.f32("--heldout", &heldout);
    a.i64("--eval-every", &eval_every);
    a.i64("--eval-sequences", &eval_seqs);
    a.str("--plot", &plot_path);
    const bool json = a.flag("--json");
    const bool recompute = a.flag("--recompute");
    if (!a.finish("train")) return 2;
    if (data_path.empty() || out_path.empty() || steps <= 0)
        return usage_error("train needs --data TEXT_FILE, --steps N and --out OUT.gguf");
    const bool shape_given = dim || hidden || layers || heads;
    if (from_model == shape_given)
        return usage_error(
            "train needs either --model M.gguf or --dim, --hidden, --layers, --heads and --vocab (V.gguf or bytes)");
    if (!ckpt_path.empty() && ckpt_every <= 0) return usage_error("--checkpoint needs --checkpoint-every N");
    std::string text;
    if (!read_all(data_path, &text)) {
        fprintf(stderr, "error: cannot read --data %s\n", data_path.c_str());
        return 1;
    }

    // From scratch: a shape file with the vocabulary, trained from seeded random weights.
    std::string shape_path;
    if (!from_model) {
        if (vocab.empty()) return usage_error("training from scratch needs --vocab V.gguf or --vocab bytes");
        ShapeSpec s;
        s.dim = static_cast<int>(dim), s.hidden = static_cast<int>(hidden), s.layers = static_cast<int>(layers);
        s.heads = static_cast<int>(heads), s.kv_heads = static_cast<int>(kv_heads), s.vocab_from = vocab;
        s.ctx = static_cast<int>(seq);
        shape_path = "/tmp/smallmind-train-shape-" + std::to_string(getpid()) + ".gguf";
        if (!write_shape_model(s, shape_path)) return 1;
        mo.path = shape_path;
    }
    if (mo.budget_mb == 0) mo.budget_mb = 2048;
    mo.max_text = 65536;
    Loaded L;
    const bool loaded = load_model(mo, L);
    const std::string model_file = mo.path;
    auto cleanup = [&] {
        if (!shape_path.empty()) unlink(shape_path.c_str());
    };
    if (!loaded) return cleanup(), 1;

    sm_trainer_desc d = sm_trainer_desc_default();
    d.lr = lr;
    d.lr_min = lr_min >= 0 ? lr_min : lr * 0.1f;
    d.weight_decay = wd;
    d.grad_clip = clip;
    d.total_steps = static_cast<int32_t>(steps);
    d.warmup_steps = static_cast<int32_t>(warmup >= 0 ? warmup : (steps / 20 < 100 ? steps / 20 : 100));
    d.batch = static_cast<int32_t>(batch);
    d.seq_len = static_cast<int32_t>(seq);
    d.accum_steps = static_cast<int32_t>(accum);
    d.seed = static_cast<uint64_t>(seed);
    d.init_random = from_model ? 0 : 1;
    d.recompute = recompute ? 1 : 0;
    sm_trainer *t = nullptr;
    sm_status st = sm_trainer_create(L.model, &d, &t);
    if (st != SM_OK) return cleanup(), report(L.rt, st, "trainer");
    st = sm_trainer_set_text(t, text.data(), text.size(), heldout);
    if (st != SM_OK) return sm_trainer_destroy(t), cleanup(), report(L.rt, st, "data");
    sm_trainer_info info;
    sm_trainer_get_info(t, &info);
    fprintf(stderr, "train: %lld parameters, %lld training and %lld held-out sequences of %lld tokens, trainer %.1f MiB\n",
            static_cast<long long>(info.n_params), static_cast<long long>(info.train_sequences),
            static_cast<long long>(info.heldout_sequences), static_cast<long long>(seq), info.total_bytes / 1048576.0);
    if (!resume_path.empty()) {
        std::string ck;
        if (!read_all(resume_path, &ck)) {
            fprintf(stderr, "error: cannot read --resume %s\n", resume_path.c_str());
            return sm_trainer_destroy(t), cleanup(), 1;
        }
        st = sm_trainer_load(t, ck.data(), ck.size());
        if (st != SM_OK) return sm_trainer_destroy(t), cleanup(), report(L.rt, st, "resume");
    }

    const bool tty = isatty(2);
    if (eval_every <= 0) eval_every = steps / 10 > 0 ? steps / 10 : 1;
    float loss_first = -1, held = -1;
    sm_train_result r{};
    // --plot: the losses by step (one entry per step, grown here, outside the runtime).
    PlotSeries train_curve, held_curve;
    train_curve.label = "training loss", train_curve.rgb = 0x1f77b4;
    held_curve.label = "held-out loss", held_curve.rgb = 0xe8590c, held_curve.markers = true;
    const double t0 = seconds_now();
    int64_t start_step = -1;
    for (;;) {
        st = sm_trainer_step(t, static_cast<uint32_t>(budget_us), &r);
        if (st != SM_OK) break;
        if (start_step < 0) start_step = r.step - (r.step_done ? 1 : 0);
        if (!r.step_done) continue;
        if (loss_first < 0) loss_first = r.loss;
        if (!plot_path.empty()) train_curve.x.push_back(static_cast<double>(r.step)), train_curve.y.push_back(r.loss);
        const double el = seconds_now() - t0;
        const double eta = el / static_cast<double>(r.step - start_step) * static_cast<double>(steps - r.step);
        print_train_progress(r, steps, eta, tty, eval_every);
        if ((r.step % eval_every == 0 || r.step >= steps) && info.heldout_sequences > 0) {
            sm_trainer_eval(t, static_cast<int32_t>(eval_seqs), &held);
            print_heldout(r.step, held, tty);
            if (!plot_path.empty()) held_curve.x.push_back(static_cast<double>(r.step)), held_curve.y.push_back(held);
        }
        if (!ckpt_path.empty() && r.step % ckpt_every == 0) {
            size_t n = 0;
            sm_trainer_save(t, nullptr, 0, &n);
            std::vector<uint8_t> b(n);
            if (sm_trainer_save(t, b.data(), n, &n) != SM_OK || !write_all(ckpt_path, b))
                fprintf(stderr, "warning: cannot write --checkpoint %s\n", ckpt_path.c_str());
        }
        if (r.step >= steps) break;
    }
    if (st != SM_OK) return sm_trainer_destroy(t), cleanup(), report(L.rt, st, "step");
    const bool gguf_source = model_file.size() > 5 && model_file.compare(model_file.size() - 5, 5, ".gguf") == 0;
    st = sm_trainer_save_gguf(t, SM_TRAINER_WEIGHTS, gguf_source ? model_file.c_str() : nullptr, out_path.c_str());
    if (st != SM_OK) return sm_trainer_destroy(t), cleanup(), report(L.rt, st, "save");
    fprintf(stderr, "train: wrote %s\n", out_path.c_str());
    if (!plot_path.empty()) {
        std::vector<PlotSeries> curves{train_curve};
        if (!held_curve.x.empty()) curves.push_back(held_curve);
        std::string error;
        if (!write_plot_png(render_plot(curves, "step", "loss (nats/token)"), plot_path, &error)) {
            fprintf(stderr, "error: --plot: %s\n", error.c_str());
            return sm_trainer_destroy(t), cleanup(), 1;
        }
        fprintf(stderr, "train: wrote %s\n", plot_path.c_str());
    }
    if (json)
        printf("{\"steps\": %lld, \"loss_first\": %.5f, \"loss_last\": %.5f, \"heldout_loss\": %.5f, \"tok_s\": %.1f}\n",
               static_cast<long long>(r.step), loss_first, r.loss, held, r.tok_s);
    sm_trainer_destroy(t);
    cleanup();
    return 0;
}

int cmd_gradients(int argc, char **argv) {
    Args a(argc, argv, 2);
    ModelOptions mo;
    read_model_options(a, mo);
    std::vector<int32_t> ids;
    std::string out_path;
    a.ids("--ids", &ids);
    a.str("--out", &out_path);
    if (!a.finish("gradients")) return 2;
    if (mo.path.empty()) mo.path = default_model_path();
    if (ids.size() < 2 || ids.size() > 513 || out_path.empty())
        return usage_error("gradients needs --ids with 2 to 513 ids and --out G.gguf");
    if (mo.budget_mb == 0) mo.budget_mb = 1024;
    Loaded L;
    if (!load_model(mo, L)) return 1;
    sm_trainer_desc d = sm_trainer_desc_default();
    d.batch = 1;
    d.seq_len = static_cast<int32_t>(ids.size() - 1);
    sm_trainer *t = nullptr;
    sm_status st = sm_trainer_create(L.model, &d, &t);
    if (st != SM_OK) return report(L.rt, st, "trainer");
    float loss = 0;
    st = sm_trainer_gradient(t, ids.data(), ids.size(), &loss);
    if (st == SM_OK) st = sm_trainer_save_gguf(t, SM_TRAINER_GRADIENTS, nullptr, out_path.c_str());
    sm_trainer_destroy(t);
    if (st != SM_OK) return report(L.rt, st, "gradients");
    printf("loss %.6f\n", loss);
    return 0;
}
