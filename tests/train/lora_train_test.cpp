// LoRA training through the C API: gradients against finite differences of the double
// precision reference for every base type, publishing into the adapter slot, saving
// in llama.cpp's format, determinism across slicing and threads, and fine-tuning
// stories260K on text.
#include <catch2/catch.hpp>

#include "../model_fixture.h"
#include "../test_support.h"
#include "api/handles.h"
#include "format/gguf_write.h"
#include "format/model_file.h"
#include "lora/adapter_file.h"
#include "quant/quant.h"
#include "reference_double.h"
#include "train/trainer.h"
#include "train/weights_io.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

using sm::lora::Target;

// A two-layer model (so gradients cross a layer) whose every matrix has 256 columns, so every block type (Q4_K and
// Q6_K need 256-value blocks) holds it; GQA with two query heads per KV head.
sm::Hparams base_hparams() {
    sm::Hparams hp;
    snprintf(hp.name, sizeof hp.name, "lora-train-test");
    hp.n_vocab = 64;
    hp.dim = 256;
    hp.hidden_dim = 256;
    hp.n_layers = 2;
    hp.n_heads = 4;
    hp.n_kv_heads = 2;
    hp.head_dim = 64;
    hp.n_ctx_train = 512;
    return hp;
}

std::string write_base(sm::TensorType type, const std::string &name) {
    const sm::Hparams hp = base_hparams();
    const std::string path = smtest::temp_path(name);
    sm::gguf::Writer w;
    sm::write_llama_metadata(w, hp, 0);
    uint32_t seed = 7;
    auto matrix = [&](const std::string &n, int rows, int cols) {
        const std::vector<float> v = trt::randf(static_cast<size_t>(rows) * cols, seed++, 0.08f);
        w.add_tensor(n, type, {cols, rows},
                     [v, type, rows, cols](uint8_t *dst, size_t) { sm::quant::quantize_rows(type, v.data(), dst, rows, cols); });
    };
    auto vec = [&](const std::string &n, int len) {
        std::vector<float> v = trt::randf(static_cast<size_t>(len), seed++, 0.1f);
        for (float &x : v) x += 1.0f;
        w.add_tensor(n, sm::TensorType::F32, {len}, [v](uint8_t *dst, size_t bytes) { memcpy(dst, v.data(), bytes); });
    };
    const int D = hp.dim, H = hp.hidden_dim;
    matrix("token_embd.weight", hp.n_vocab, D);
    for (int l = 0; l < hp.n_layers; l++) {
        const std::string b = "blk." + std::to_string(l) + ".";
        vec(b + "attn_norm.weight", D);
        matrix(b + "attn_q.weight", hp.q_dim(), D);
        matrix(b + "attn_k.weight", hp.kv_dim(), D);
        matrix(b + "attn_v.weight", hp.kv_dim(), D);
        matrix(b + "attn_output.weight", D, hp.q_dim());
        vec(b + "ffn_norm.weight", D);
        matrix(b + "ffn_gate.weight", H, D);
        matrix(b + "ffn_up.weight", H, D);
        matrix(b + "ffn_down.weight", D, H);
    }
    vec("output_norm.weight", D);
    matrix("output.weight", hp.n_vocab, D);
    sm::Error err;
    REQUIRE(w.write(path.c_str(), err) == SM_OK);
    return path;
}

// A random adapter (B not zero, so A has a gradient) of this rank on every projection.
std::string write_random_adapter(const sm::Hparams &hp, int rank, float alpha, const std::string &name) {
    std::vector<std::vector<float>> store;
    std::vector<sm::lora::PairValues> pairs;
    uint32_t seed = 100;
    for (int l = 0; l < hp.n_layers; l++)
        for (int t = 0; t < sm::lora::kTargets; t++) {
            const sm::lora::Shape s = sm::lora::target_shape(hp, static_cast<Target>(t));
            store.push_back(trt::randf(static_cast<size_t>(rank) * (s.n_in + s.n_out), seed++, 0.05f));
            sm::lora::PairValues p;
            p.layer = l, p.target = static_cast<Target>(t), p.rank = rank, p.n_in = s.n_in, p.n_out = s.n_out;
            p.a = store.back().data();
            p.b = p.a + static_cast<size_t>(rank) * s.n_in;
            pairs.push_back(p);
        }
    const std::string path = smtest::temp_path(name);
    sm::Error err;
    REQUIRE(sm::lora::write_adapter_file(path.c_str(), "llama", alpha, pairs, sm::TensorType::F32, err) == SM_OK);
    return path;
}

// Where a projection's rows sit in the full model's flat layout.
int64_t full_offset(const sm::train::ParamLayout &p, int l, Target t) {
    const sm::Hparams &hp = p.hp();
    const auto &L = p.layer(l);
    const int64_t D = hp.dim, H = hp.hidden_dim, QD = hp.q_dim(), KVD = hp.kv_dim();
    switch (t) {
    case Target::Q: return L.wqkv;
    case Target::K: return L.wqkv + QD * D;
    case Target::V: return L.wqkv + (QD + KVD) * D;
    case Target::O: return L.wo;
    case Target::Gate: return L.w13;
    case Target::Up: return L.w13 + H * D;
    default: return L.w2;
    }
}

struct Pairs { // an adapter as doubles, in the order of sm::lora::AdapterFile::pairs
    struct One {
        int layer, rank, n_in, n_out;
        Target t;
        size_t a, b; // offsets in v
    };
    std::vector<One> list;
    trt::Vec v;
};

Pairs read_adapter(const std::string &path, const sm::Hparams &hp, float *alpha) {
    sm::lora::AdapterFile f;
    sm::Error err;
    REQUIRE(sm::lora::open_adapter_file(path.c_str(), hp, f, err) == SM_OK);
    *alpha = f.alpha;
    Pairs out;
    for (const sm::lora::PairSource &p : f.pairs) {
        const sm::lora::Shape s = sm::lora::target_shape(hp, p.target);
        std::vector<float> a(static_cast<size_t>(p.rank) * s.n_in), b(static_cast<size_t>(p.rank) * s.n_out);
        REQUIRE(sm::lora::pair_floats(p, a.data(), b.data()));
        Pairs::One o{p.layer, p.rank, s.n_in, s.n_out, p.target, out.v.size(), out.v.size() + a.size()};
        out.v.insert(out.v.end(), a.begin(), a.end());
        out.v.insert(out.v.end(), b.begin(), b.end());
        out.list.push_back(o);
    }
    return out;
}

// The base's values (dequantized) plus s * B A of every pair, in doubles.
trt::Vec merged(const sm::train::ParamLayout &full, const trt::Vec &base, const Pairs &ad, double s) {
    trt::Vec P = base;
    for (const Pairs::One &o : ad.list) {
        const int64_t off = full_offset(full, o.layer, o.t);
        for (int n = 0; n < o.n_out; n++)
            for (int k = 0; k < o.n_in; k++) {
                double d = 0;
                for (int r = 0; r < o.rank; r++)
                    d += ad.v[o.b + static_cast<size_t>(n) * o.rank + r] * ad.v[o.a + static_cast<size_t>(r) * o.n_in + k];
                P[static_cast<size_t>(off + static_cast<int64_t>(n) * o.n_in + k)] += s * d;
            }
    }
    return P;
}

sm_trainer_desc lora_desc(int batch, int seq) {
    sm_trainer_desc d = sm_trainer_desc_default();
    d.mode = SM_TRAIN_LORA;
    d.batch = batch;
    d.seq_len = seq;
    d.warmup_steps = 2;
    d.total_steps = 100;
    return d;
}

} // namespace

TEST_CASE("lora training: gradients against finite differences for every base type", "[train][lora]") {
    const sm::TensorType types[] = {sm::TensorType::F32,  sm::TensorType::F16,  sm::TensorType::BF16, sm::TensorType::Q8_0,
                                    sm::TensorType::Q4_0, sm::TensorType::Q4_K, sm::TensorType::Q6_K};
    const sm::Hparams hp = base_hparams();
    const int rank = 4, T = 6;
    const float alpha = 8.0f;
    const std::string adapter = write_random_adapter(hp, rank, alpha, "lora-train-fd-adapter.gguf");
    for (sm::TensorType type : types) {
        const char *tname = sm::type_name(static_cast<uint32_t>(type));
        SECTION(tname) {
            const std::string path = write_base(type, std::string("lora-train-fd-") + tname + ".gguf");
            sm_model_desc md = sm_model_desc_default();
            md.max_adapters = 2;
            md.max_lora_rank = 8;
            smtest::Loaded L;
            REQUIRE(smtest::load(L, path, SM_ISA_SCALAR, md));
            sm_adapter *from = nullptr;
            REQUIRE(sm_adapter_load(L.model, adapter.c_str(), &from) == SM_OK);
            sm_trainer_desc d = lora_desc(1, T);
            d.lora_from = from;
            sm_trainer *t = nullptr;
            REQUIRE(sm_trainer_create(L.model, &d, &t) == SM_OK);
            std::mt19937 g(5);
            std::vector<int32_t> tokens(T + 1);
            for (auto &x : tokens) x = static_cast<int32_t>(g() % 64);
            float loss = 0;
            REQUIRE(sm_trainer_gradient(t, tokens.data(), tokens.size(), &loss) == SM_OK);
            const std::string gpath = smtest::temp_path(std::string("lora-train-fd-grad-") + tname + ".gguf");
            REQUIRE(sm_trainer_save_gguf(t, SM_TRAINER_GRADIENTS, nullptr, gpath.c_str()) == SM_OK);
            sm_trainer_destroy(t);

            // The reference: the base as the model holds it (dequantized), the adapter merged in doubles.
            const sm_model *M = sm::api::model_of(L.model);
            sm::train::ParamLayout full;
            REQUIRE(full.init(M->hp, false));
            std::vector<float> basef(static_cast<size_t>(full.total()));
            sm::train::gather_params(full, M->w, basef.data());
            const trt::Vec base(basef.begin(), basef.end());
            float a0 = 0, ag = 0;
            Pairs theta = read_adapter(adapter, hp, &a0);
            const Pairs grad = read_adapter(gpath, hp, &ag);
            REQUIRE(grad.list.size() == theta.list.size());
            const double s = alpha / rank;
            const std::vector<int32_t> in(tokens.begin(), tokens.end() - 1), tg(tokens.begin() + 1, tokens.end());
            auto f = [&] { return trt::model_loss(full, merged(full, base, theta, s), in, tg, 1, T); };
            // Quantized bases multiply quantized activations forward; the reference does not.
            const bool exact = type == sm::TensorType::F32 || type == sm::TensorType::F16 || type == sm::TensorType::BF16;
            CHECK(loss == Approx(f()).epsilon(exact ? 1e-4 : 2e-2));
            double gmax = 0;
            for (double x : grad.v) gmax = std::max(gmax, std::fabs(x));
            REQUIRE(gmax > 0);
            int bad = 0, checked = 0;
            for (size_t pi = 0; pi < theta.list.size(); pi++) {
                const Pairs::One &o = theta.list[pi];
                for (int half = 0; half < 2; half++) {
                    const size_t start = half ? o.b : o.a, n = static_cast<size_t>(o.rank) * (half ? o.n_out : o.n_in);
                    for (int k = 0; k < 3; k++) {
                        const size_t i = start + g() % n;
                        const double fd = trt::central_diff(theta.v, i, 1e-4, f);
                        const double got = grad.v[i];
                        checked++;
                        const double tol = exact ? 1e-3 * gmax + 1e-2 * std::fabs(fd) : 2e-2 * gmax + 5e-2 * std::fabs(fd);
                        if (std::fabs(got - fd) > tol) {
                            bad++;
                            UNSCOPED_INFO(sm::lora::target_tensor(o.t) << (half ? " B" : " A") << " [" << i - start
                                                                       << "]: backward " << got << ", finite difference " << fd);
                        }
                    }
                }
            }
            INFO(tname << ": " << checked << " adapter values checked, largest gradient " << gmax);
            CHECK(bad == 0);
        }
    }
}

namespace {

std::vector<float> logits_of(sm_session *s, int32_t token, size_t vocab) {
    REQUIRE(sm_session_reset(s) == SM_OK);
    std::vector<float> l(vocab);
    REQUIRE(sm_session_eval(s, &token, 1, l.data(), l.size()) == SM_OK);
    return l;
}

float max_abs_diff(const std::vector<float> &a, const std::vector<float> &b) {
    float m = 0;
    for (size_t i = 0; i < a.size(); i++) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

std::string fixture_text() {
    const std::vector<uint8_t> b = smtest::read_fixture(smtest::fixture("finetune.txt"));
    return std::string(b.begin(), b.end());
}

} // namespace

TEST_CASE("lora training: sessions applying the adapter see it change at step ends only; the others keep the base",
          "[train][lora][api]") {
    sm_model_desc md = sm_model_desc_default();
    md.max_adapters = 2;
    md.max_sessions = 2;
    smtest::Loaded L;
    const std::string model = smtest::stories_path("gguf");
    REQUIRE(smtest::load(L, model, SM_ISA_AUTO, md));
    sm_session *other = nullptr;
    REQUIRE(sm_session_create(L.model, nullptr, &other) == SM_OK);
    const std::vector<float> base = logits_of(other, 1, 512);

    sm_trainer_desc d = lora_desc(2, 32);
    d.lr = 3e-3f;
    sm_trainer *t = nullptr;
    REQUIRE(sm_trainer_create(L.model, &d, &t) == SM_OK);
    sm_adapter *a = nullptr;
    REQUIRE(sm_trainer_get_adapter(t, &a) == SM_OK);
    REQUIRE(a != nullptr);
    CHECK(sm_adapter_unload(a) == SM_ERR_STATE); // the trainer publishes into it
    REQUIRE(sm_session_set_adapters(L.session, &a, nullptr, 1) == SM_OK);
    CHECK(logits_of(L.session, 1, 512) == base); // B starts at zero: the identity, exactly

    const std::string text = fixture_text();
    REQUIRE(sm_trainer_set_text(t, text.data(), text.size(), 0.2f) == SM_OK);
    sm_train_result r{};
    REQUIRE(sm_trainer_step(t, 1, &r) == SM_OK); // one unit: mid-step
    CHECK(r.step_done == 0);
    CHECK(logits_of(L.session, 1, 512) == base);
    while (!r.step_done) REQUIRE(sm_trainer_step(t, 1, &r) == SM_OK);
    const std::vector<float> after1 = logits_of(L.session, 1, 512);
    CHECK(after1 != base);
    CHECK(logits_of(other, 1, 512) == base); // a session without the adapter: the base model
    for (int i = 0; i < 3; i++) REQUIRE(sm_trainer_step(t, 0, &r) == SM_OK);
    CHECK(r.step == 4);
    const std::vector<float> trained = logits_of(L.session, 1, 512);

    // Saved by the trainer and from the slot: the same adapter; it outlives the trainer.
    const std::string p1 = smtest::temp_path("lora-train-a.gguf"), p2 = smtest::temp_path("lora-train-b.gguf");
    REQUIRE(sm_trainer_save_gguf(t, SM_TRAINER_WEIGHTS, nullptr, p1.c_str()) == SM_OK);
    sm_trainer_destroy(t);
    REQUIRE(sm_adapter_save(a, p2.c_str(), nullptr) == SM_OK);
    CHECK(smtest::read_file(p1) == smtest::read_file(p2));
    CHECK(logits_of(L.session, 1, 512) == trained);

    // Read back into the other slot: the same logits; merged into the model: within 1e-4.
    REQUIRE(sm_session_set_adapters(L.session, nullptr, nullptr, 0) == SM_OK);
    REQUIRE(sm_adapter_unload(a) == SM_OK);
    sm_adapter *b = nullptr;
    REQUIRE(sm_adapter_load(L.model, p2.c_str(), &b) == SM_OK);
    REQUIRE(sm_session_set_adapters(other, &b, nullptr, 1) == SM_OK);
    CHECK(logits_of(other, 1, 512) == trained);
    const std::string merged = smtest::temp_path("lora-train-merged.gguf");
    const char *list[] = {p2.c_str()};
    REQUIRE(sm_lora_merge(L.rt, model.c_str(), list, nullptr, 1, merged.c_str(), nullptr) == SM_OK);
    smtest::Loaded M;
    REQUIRE(smtest::load(M, merged, SM_ISA_AUTO, sm_model_desc_default()));
    CHECK(max_abs_diff(logits_of(M.session, 1, 512), trained) < 1e-4f);
    REQUIRE(sm_session_destroy(other) == SM_OK); // the model refuses to go while it has sessions
}

TEST_CASE("lora training: refusals name what is wrong", "[train][lora][api]") {
    smtest::Loaded L;
    REQUIRE(smtest::load(L, smtest::stories_path("gguf"), SM_ISA_AUTO, sm_model_desc_default()));
    sm_trainer_desc d = lora_desc(1, 8);
    sm_trainer *t = nullptr;
    CHECK(sm_trainer_create(L.model, &d, &t) == SM_ERR_CAPACITY); // no adapter slot
    CHECK(std::string(sm_last_error(L.rt)).find("max_adapters") != std::string::npos);
    sm_model_desc md = sm_model_desc_default();
    md.max_adapters = 1;
    md.max_lora_rank = 4;
    smtest::Loaded S;
    REQUIRE(smtest::load(S, smtest::stories_path("gguf"), SM_ISA_AUTO, md));
    d.lora_rank = 8;
    CHECK(sm_trainer_create(S.model, &d, &t) == SM_ERR_CAPACITY);
    CHECK(std::string(sm_last_error(S.rt)).find("max_lora_rank") != std::string::npos);
    d.lora_rank = 4;
    d.lora_targets = 0;
    CHECK(sm_trainer_create(S.model, &d, &t) == SM_ERR_INVALID_ARGUMENT);
    d.lora_targets = SM_LORA_Q | SM_LORA_V;
    REQUIRE(sm_trainer_create(S.model, &d, &t) == SM_OK);
    sm_trainer *t2 = nullptr;
    CHECK(sm_trainer_create(S.model, &d, &t2) == SM_ERR_CAPACITY); // the one slot is taken
    sm_trainer_info info;
    REQUIRE(sm_trainer_get_info(t, &info) == SM_OK);
    CHECK(info.n_params == 5 * 2 * 4 * (64 + 64) - 5 * 4 * (64 - 32)); // q: 64 -> 64, v: 64 -> 32 (GQA), rank 4, 5 layers
    sm_trainer_destroy(t);
    // the full trainer has no adapter
    sm_trainer_desc f = sm_trainer_desc_default();
    f.batch = 1;
    f.seq_len = 8;
    REQUIRE(sm_trainer_create(S.model, &f, &t) == SM_OK);
    sm_adapter *a = nullptr;
    CHECK(sm_trainer_get_adapter(t, &a) == SM_ERR_STATE);
    sm_trainer_destroy(t);
}

TEST_CASE("lora training: the adapter after N steps is the same bytes for every step budget and thread count",
          "[train][lora][determinism]") {
    const std::string path = write_base(sm::TensorType::Q8_0, "lora-train-det-q8_0.gguf");
    std::mt19937 g(9);
    std::vector<int32_t> data(2000);
    for (auto &x : data) x = static_cast<int32_t>(g() % 64);
    auto run = [&](int threads, uint32_t budget, int recompute) {
        sm_model_desc md = sm_model_desc_default();
        md.max_adapters = 1;
        smtest::Loaded L;
        REQUIRE(smtest::load(L, path, SM_ISA_AUTO, md, threads));
        sm_trainer_desc d = lora_desc(2, 16);
        d.lora_rank = 4;
        d.seed = 3;
        d.recompute = recompute;
        sm_trainer *t = nullptr;
        REQUIRE(sm_trainer_create(L.model, &d, &t) == SM_OK);
        REQUIRE(sm_trainer_set_tokens(t, data.data(), data.size(), 0.1f) == SM_OK);
        sm_train_result r{};
        while (r.step < 3) REQUIRE(sm_trainer_step(t, budget, &r) == SM_OK);
        const std::string out = smtest::temp_path("lora-train-det-" + std::to_string(threads) + "-" + std::to_string(budget) +
                                                  ".gguf");
        REQUIRE(sm_trainer_save_gguf(t, SM_TRAINER_WEIGHTS, nullptr, out.c_str()) == SM_OK);
        sm_trainer_destroy(t);
        return smtest::read_file(out);
    };
    const std::vector<uint8_t> ref = run(1, 0, 0);
    for (int threads : {1, 2, 3})
        for (uint32_t budget : {0u, 1u, 400u}) {
            INFO(threads << " threads, budget " << budget << " us");
            CHECK(run(threads, budget, 0) == ref);
        }
    // activation checkpointing: the forward again before each layer's backward, same bits
    CHECK(run(1, 0, 1) == ref);
    CHECK(run(2, 400, 1) == ref);
}

TEST_CASE("lora training: fine-tuning stories260K on a text lowers its held-out loss", "[train][lora]") {
    sm_model_desc md = sm_model_desc_default();
    md.max_adapters = 1;
    smtest::Loaded L;
    REQUIRE(smtest::load(L, smtest::stories_path("gguf"), SM_ISA_AUTO, md, 2));
    sm_trainer_desc d = lora_desc(4, 32);
    d.lr = 1e-2f;
    d.lora_rank = 8;
    d.weight_decay = 0.0f;
    d.total_steps = 40;
    sm_trainer *t = nullptr;
    REQUIRE(sm_trainer_create(L.model, &d, &t) == SM_OK);
    const std::string text = fixture_text();
    REQUIRE(sm_trainer_set_text(t, text.data(), text.size(), 0.15f) == SM_OK);
    float before = 0, after = 0;
    REQUIRE(sm_trainer_eval(t, 0, &before) == SM_OK);
    sm_train_result r{};
    while (r.step < 40) REQUIRE(sm_trainer_step(t, 0, &r) == SM_OK);
    REQUIRE(sm_trainer_eval(t, 0, &after) == SM_OK);
    INFO("held-out loss " << before << " -> " << after << ", training loss " << r.loss);
    CHECK(after < 0.8f * before);
    sm_trainer_info info;
    REQUIRE(sm_trainer_get_info(t, &info) == SM_OK);
    CHECK(info.publishes == 1);
    sm_trainer_destroy(t);
}

// The parts a LoRA unit runs as (rows of the products; vocabulary slices, loss rows and
// dx slices of the head) are fixed by the shape; with tiny parts every split path runs
// and the gradient must still be the whole's (sums regrouped: not bit for bit).
TEST_CASE("lora training: products and the head split into many parts give the same gradient", "[train][lora]") {
    sm_model_desc md = sm_model_desc_default();
    smtest::Loaded L;
    REQUIRE(smtest::load(L, smtest::stories_path("gguf"), SM_ISA_AUTO, md));
    const sm_model *M = sm::api::model_of(L.model);
    const bool tied = M->w.output.data == M->w.tok_embd.data;
    sm::train::ParamLayout p;
    REQUIRE(p.init_lora(M->hp, tied, 4, SM_LORA_ALL));
    sm::train::TrainConfig c;
    c.batch = 2;
    c.seq_len = 40;
    const std::vector<float> initial = trt::randf(static_cast<size_t>(p.total()), 31, 0.05f);
    std::mt19937 g(8);
    std::vector<int32_t> tokens(80), targets(80);
    for (auto &x : tokens) x = static_cast<int32_t>(g() % 512);
    for (auto &x : targets) x = static_cast<int32_t>(g() % 512);
    auto gradient = [&](double part_flops, std::vector<float> *out) {
        sm::train::FrozenBase b;
        b.w = &M->w;
        b.k = M->rt->kernels;
        b.lora_scale = 2.0f;
        b.part_flops = part_flops;
        sm::train::TrainerSizes sz;
        sm::Error err;
        REQUIRE(sm::train::Trainer::plan(p, c, sz, err, &b));
        void *block = aligned_alloc(64, (sz.total + 63) / 64 * 64);
        sm::train::Trainer t;
        const sm::train::Compute comp{M->rt->kernels, nullptr, sm::kern::train_kernels_for(M->rt->kernels->isa)};
        t.init(p, c, comp, block, initial.data(), &b);
        const double loss = t.gradient(tokens.data(), targets.data());
        CHECK(t.status() == SM_OK);
        out->assign(t.grads(), t.grads() + p.total());
        free(block);
        return loss;
    };
    std::vector<float> whole, split;
    const double lw = gradient(0, &whole), ls = gradient(3e4, &split); // 3e4: 32 vocabulary slices, 80 loss parts
    CHECK(ls == Approx(lw).epsilon(1e-6));
    double gmax = 0, dmax = 0;
    for (size_t i = 0; i < whole.size(); i++) {
        gmax = std::max(gmax, std::fabs(static_cast<double>(whole[i])));
        dmax = std::max(dmax, std::fabs(static_cast<double>(whole[i]) - split[i]));
    }
    INFO("largest gradient " << gmax << ", largest difference " << dmax);
    CHECK(gmax > 0);
    CHECK(dmax <= 1e-5 * gmax);
}
