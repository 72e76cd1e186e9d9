// LoRA adapters through the public API: llama.cpp's GGUF format written and read back,
// unmerged logits against the merged model, refusals with messages, per-session adapters
// in one batched forward pass, and thread invariance.
#include <catch2/catch.hpp>

#include "lora/adapter_file.h"
#include "model_fixture.h"

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

const std::string kBase = smtest::repo_path("assets/stories260K.gguf");

sm::Hparams base_hparams() {
    sm::Hparams hp;
    hp.dim = 64, hp.hidden_dim = 172, hp.n_layers = 5, hp.n_heads = 8, hp.n_kv_heads = 4, hp.head_dim = 8;
    return hp;
}

// A random adapter on every projection of every layer (targets: all seven unless given).
struct RandomAdapter {
    std::vector<std::vector<float>> a, b;
    std::vector<sm::lora::PairValues> pairs;
    RandomAdapter(const sm::Hparams &hp, int rank, uint32_t seed, float b_scale = 0.05f, int n_targets = sm::lora::kTargets) {
        std::mt19937 g(seed);
        std::normal_distribution<float> nd(0.0f, 1.0f);
        for (int l = 0; l < hp.n_layers; l++)
            for (int t = 0; t < n_targets; t++) {
                const sm::lora::Shape s = sm::lora::target_shape(hp, static_cast<sm::lora::Target>(t));
                a.emplace_back(static_cast<size_t>(rank * s.n_in));
                b.emplace_back(static_cast<size_t>(s.n_out * rank));
                for (float &x : a.back()) x = nd(g) / std::sqrt(static_cast<float>(s.n_in));
                for (float &x : b.back()) x = nd(g) * b_scale;
                sm::lora::PairValues p;
                p.layer = l, p.target = static_cast<sm::lora::Target>(t), p.rank = rank, p.n_in = s.n_in, p.n_out = s.n_out;
                pairs.push_back(p);
            }
        for (size_t i = 0; i < pairs.size(); i++) pairs[i].a = a[i].data(), pairs[i].b = b[i].data();
    }
    std::string write(const std::string &name, float alpha, const char *arch = "llama",
                      sm::TensorType t = sm::TensorType::F32) const {
        const std::string path = smtest::temp_path(name);
        sm::Error err;
        REQUIRE(sm::lora::write_adapter_file(path.c_str(), arch, alpha, pairs, t, err) == SM_OK);
        return path;
    }
};

struct Rt {
    sm_runtime *rt = nullptr;
    sm_model *m = nullptr;
    Rt(const std::string &path, int max_adapters, int threads = 1, int max_sessions = 1, int rank = 16, int max_batch = 128) {
        sm_runtime_desc d = sm_runtime_desc_default();
        d.memory_budget = size_t(64) << 20;
        d.threads = threads;
        REQUIRE(sm_runtime_create(&d, &rt) == SM_OK);
        sm_model_desc md = sm_model_desc_default();
        md.all_logits = 1;
        md.max_batch = max_batch;
        md.max_adapters = max_adapters;
        md.max_lora_rank = rank;
        md.max_sessions = max_sessions;
        const sm_status st = sm_model_load(rt, path.c_str(), nullptr, &md, &m);
        INFO(sm_last_error(rt));
        REQUIRE(st == SM_OK);
    }
    ~Rt() {
        sm_model_destroy(m);
        sm_runtime_destroy(rt);
    }
    std::vector<float> logits(const std::vector<sm_adapter *> &ads = {}, const std::vector<float> &scales = {}) {
        sm_session *s = nullptr;
        REQUIRE(sm_session_create(m, nullptr, &s) == SM_OK);
        REQUIRE(sm_session_set_adapters(s, ads.data(), scales.empty() ? nullptr : scales.data(),
                                        static_cast<int32_t>(ads.size())) == SM_OK);
        const auto in = smtest::Stories::get().inputs();
        std::vector<float> out(100 * 512);
        REQUIRE(sm_session_eval(s, in.data(), 100, out.data(), out.size()) == SM_OK);
        sm_session_destroy(s);
        return out;
    }
};

double max_diff(const std::vector<float> &a, const std::vector<float> &b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); i++) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
    return m;
}

} // namespace

TEST_CASE("lora: an adapter written in llama.cpp's format reads back exactly", "[lora]") {
    const sm::Hparams hp = base_hparams();
    const RandomAdapter ra(hp, 4, 1);
    for (sm::TensorType t : {sm::TensorType::F32, sm::TensorType::F16}) {
        INFO(sm::type_name(static_cast<uint32_t>(t)));
        const std::string path = ra.write("rt.gguf", 8.0f, "llama", t);
        sm::lora::AdapterFile f;
        sm::Error err;
        REQUIRE(sm::lora::open_adapter_file(path.c_str(), hp, f, err) == SM_OK);
        CHECK(f.alpha == 8.0f);
        CHECK(f.max_rank == 4);
        REQUIRE(f.pairs.size() == ra.pairs.size());
        double worst = 0;
        for (const auto &p : f.pairs) {
            CHECK(p.a.ne0 == sm::lora::target_shape(hp, p.target).n_in); // ne = [n_in, rank]
            CHECK(p.a.ne1 == 4);
            CHECK(p.b.ne0 == 4); // ne = [rank, n_out]
            std::vector<float> a(static_cast<size_t>(p.a.ne0 * p.a.ne1)), b(static_cast<size_t>(p.b.ne0 * p.b.ne1));
            REQUIRE(sm::lora::pair_floats(p, a.data(), b.data()));
            const size_t i = static_cast<size_t>(p.layer * sm::lora::kTargets + static_cast<int>(p.target));
            worst = std::max(worst, max_diff(a, ra.a[i]));
            worst = std::max(worst, max_diff(b, ra.b[i]));
        }
        CHECK(worst <= (t == sm::TensorType::F32 ? 0.0 : 2e-3));
    }
}

TEST_CASE("lora: unmerged adapters give the merged model's logits within 1e-4", "[lora]") {
    const sm::Hparams hp = base_hparams();
    const std::string a1 = RandomAdapter(hp, 8, 2).write("a1.gguf", 16.0f, "llama", sm::TensorType::F16); // kept f16 in its slot
    const std::string a2 = RandomAdapter(hp, 4, 3, 0.05f, 4).write("a2.gguf", 0.0f); // attention only; alpha 0: scale alone
    const std::string merged = smtest::temp_path("merged.gguf");
    std::vector<float> base, unmerged;
    {
        Rt r(kBase, 2);
        sm_adapter *x = nullptr, *y = nullptr;
        REQUIRE(sm_adapter_load(r.m, a1.c_str(), &x) == SM_OK);
        REQUIRE(sm_adapter_load(r.m, a2.c_str(), &y) == SM_OK);
        base = r.logits();
        unmerged = r.logits({x, y}, {0.7f, -1.5f});
        const char *paths[] = {a1.c_str(), a2.c_str()};
        const float scales[] = {0.7f, -1.5f};
        REQUIRE(sm_lora_merge(r.rt, kBase.c_str(), paths, scales, 2, merged.c_str(), "f32") == SM_OK);
    }
    Rt m(merged, 0);
    const std::vector<float> merged_logits = m.logits();
    INFO("base vs adapted: " << max_diff(base, unmerged) << ", unmerged vs merged: " << max_diff(unmerged, merged_logits));
    CHECK(max_diff(base, unmerged) > 0.05); // the adapters really change the model
    CHECK(max_diff(unmerged, merged_logits) <= 1e-4);
}

TEST_CASE("lora: an adapter with B = 0 (a fresh one) leaves the logits bit for bit", "[lora]") {
    const std::string zero = RandomAdapter(base_hparams(), 8, 4, 0.0f).write("zero.gguf", 16.0f);
    Rt r(kBase, 1);
    sm_adapter *z = nullptr;
    REQUIRE(sm_adapter_load(r.m, zero.c_str(), &z) == SM_OK);
    const auto a = r.logits(), b = r.logits({z});
    CHECK(memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

TEST_CASE("lora: adapters for another model, and capacity limits, are refused with a message", "[lora]") {
    sm::Hparams other = base_hparams();
    other.dim = 96; // another model's shapes
    const std::string wrong_shape = RandomAdapter(other, 4, 5).write("other.gguf", 8.0f);
    const std::string wrong_arch = RandomAdapter(base_hparams(), 4, 6).write("arch.gguf", 8.0f, "gpt2");
    const std::string big_rank = RandomAdapter(base_hparams(), 32, 7).write("big.gguf", 8.0f);
    const std::string ok = RandomAdapter(base_hparams(), 4, 8).write("ok.gguf", 8.0f);
    Rt r(kBase, 1);
    sm_adapter *a = nullptr;
    CHECK(sm_adapter_load(r.m, wrong_shape.c_str(), &a) == SM_ERR_MISMATCH);
    CHECK(std::string(sm_last_error(r.rt)).find("blk.0.attn_q.weight") != std::string::npos);
    CHECK(sm_adapter_load(r.m, wrong_arch.c_str(), &a) == SM_ERR_MISMATCH);
    CHECK(std::string(sm_last_error(r.rt)).find("gpt2") != std::string::npos);
    CHECK(sm_adapter_load(r.m, kBase.c_str(), &a) == SM_ERR_FORMAT); // a model, not an adapter
    CHECK(sm_adapter_load(r.m, big_rank.c_str(), &a) == SM_ERR_CAPACITY);
    CHECK(sm_adapter_load(r.m, "/nonexistent/adapter.gguf", &a) == SM_ERR_IO);
    REQUIRE(sm_adapter_load(r.m, ok.c_str(), &a) == SM_OK);
    sm_adapter *b = nullptr;
    CHECK(sm_adapter_load(r.m, ok.c_str(), &b) == SM_ERR_CAPACITY); // one slot
    // Applied by a session: unloading is refused until the session lets go.
    sm_session *s = nullptr;
    REQUIRE(sm_session_create(r.m, nullptr, &s) == SM_OK);
    REQUIRE(sm_session_set_adapters(s, &a, nullptr, 1) == SM_OK);
    CHECK(sm_adapter_unload(a) == SM_ERR_STATE);
    REQUIRE(sm_session_set_adapters(s, nullptr, nullptr, 0) == SM_OK);
    CHECK(sm_adapter_unload(a) == SM_OK);
    CHECK(sm_session_set_adapters(s, &a, nullptr, 1) == SM_ERR_INVALID_ARGUMENT); // unloaded
    CHECK(sm_session_set_adapters(s, &a, nullptr, SM_MAX_SESSION_ADAPTERS + 1) == SM_ERR_INVALID_ARGUMENT);
    sm_session_destroy(s);
    Rt none(kBase, 0);
    CHECK(sm_adapter_load(none.m, ok.c_str(), &a) == SM_ERR_CAPACITY); // no slots planned
}

TEST_CASE("lora: sessions with different adapters in one batched forward give their own logits, any thread count",
          "[lora][batch]") {
    const sm::Hparams hp = base_hparams();
    const std::string a1 = RandomAdapter(hp, 8, 9).write("b1.gguf", 16.0f), a2 = RandomAdapter(hp, 16, 10).write("b2.gguf", 8.0f);
    const auto in = smtest::Stories::get().inputs();
    // Alone: one session at a time.
    std::vector<std::vector<float>> alone;
    {
        Rt r(kBase, 2);
        sm_adapter *x = nullptr, *y = nullptr;
        REQUIRE(sm_adapter_load(r.m, a1.c_str(), &x) == SM_OK);
        REQUIRE(sm_adapter_load(r.m, a2.c_str(), &y) == SM_OK);
        alone.push_back(r.logits({x}));
        alone.push_back(r.logits());
        alone.push_back(r.logits({y, x}, {0.5f, 2.0f}));
    }
    for (int threads : {1, 3}) {
        INFO(threads << " threads");
        Rt r(kBase, 2, threads, 3, 16, 320); // the three prompts in one batch
        sm_adapter *x = nullptr, *y = nullptr;
        REQUIRE(sm_adapter_load(r.m, a1.c_str(), &x) == SM_OK);
        REQUIRE(sm_adapter_load(r.m, a2.c_str(), &y) == SM_OK);
        sm_session *s[3] = {};
        sm_session_desc one = sm_session_desc_default();
        one.max_tokens = 1; // prefill, one sampled token, no further forward pass
        for (auto &p : s) REQUIRE(sm_session_create(r.m, &one, &p) == SM_OK);
        REQUIRE(sm_session_set_adapters(s[0], &x, nullptr, 1) == SM_OK);
        sm_adapter *two[] = {y, x};
        const float sc[] = {0.5f, 2.0f};
        REQUIRE(sm_session_set_adapters(s[2], two, sc, 2) == SM_OK);
        // Each session's last-token logits after the same 100 tokens, fed together.
        for (auto &p : s) REQUIRE(sm_session_submit_tokens(p, in.data(), 100) == SM_OK);
        REQUIRE(sm_model_step(r.m, 0, nullptr) == SM_OK); // no deadline: the whole forward pass
        for (int i = 0; i < 3; i++) {
            sm_session_info info;
            REQUIRE(sm_session_get_info(s[i], &info) == SM_OK);
            CHECK(info.n_past == 100);
            const float *l = nullptr;
            int32_t nv = 0;
            REQUIRE(sm_session_logits(s[i], &l, &nv) == SM_OK);
            REQUIRE(nv == 512);
            CHECK(memcmp(l, alone[static_cast<size_t>(i)].data() + 99 * 512, 512 * sizeof(float)) == 0);
        }
        for (auto &p : s) sm_session_destroy(p);
    }
}
