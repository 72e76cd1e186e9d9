// The C API: planning against the budget, data from text, sessions seeing weights only
// at step boundaries, checkpoint resume, and the trained model saved as GGUF.
#include <catch2/catch.hpp>

#include "../model_fixture.h"

#include <cstring>
#include <string>
#include <vector>

namespace {

sm_trainer_desc small_desc() {
    sm_trainer_desc d = sm_trainer_desc_default();
    d.batch = 2;
    d.seq_len = 32;
    d.lr = 1e-3f;
    d.warmup_steps = 2;
    d.total_steps = 20;
    d.seed = 5;
    return d;
}

std::string story_text() {
    std::string s;
    for (int i = 0; i < 6; i++) s += smtest::Stories::get().text + "\n";
    return s;
}

std::vector<float> last_logits(sm_session *s, int32_t token) {
    REQUIRE(sm_session_reset(s) == SM_OK);
    std::vector<float> l(512);
    REQUIRE(sm_session_eval(s, &token, 1, l.data(), l.size()) == SM_OK);
    return l;
}

} // namespace

TEST_CASE("trainer api: a budget too small fails at creation with the bytes needed", "[train][api]") {
    smtest::Loaded L;
    REQUIRE(smtest::load(L, smtest::stories_path("gguf"), SM_ISA_AUTO, sm_model_desc_default(), 1, nullptr, size_t(6) << 20));
    sm_trainer_desc d = small_desc();
    d.batch = 64;
    d.seq_len = 256;
    sm_trainer *t = nullptr;
    CHECK(sm_trainer_create(L.model, &d, &t) == SM_ERR_BUDGET);
    CHECK(t == nullptr);
    CHECK(std::string(sm_last_error(L.rt)).find("needs") != std::string::npos);
    d = small_desc();
    d.recompute = 2;
    CHECK(sm_trainer_create(L.model, &d, &t) == SM_ERR_INVALID_ARGUMENT);
    d = small_desc();
    d.seq_len = 513;
    CHECK(sm_trainer_create(L.model, &d, &t) == SM_ERR_INVALID_ARGUMENT);
}

TEST_CASE("trainer api: sessions see new weights only when an optimizer step ends", "[train][api]") {
    smtest::Loaded L;
    REQUIRE(smtest::load(L, smtest::stories_path("gguf"), SM_ISA_AUTO, sm_model_desc_default()));
    sm_trainer *t = nullptr;
    sm_trainer_desc d = small_desc();
    REQUIRE(sm_trainer_create(L.model, &d, &t) == SM_OK);
    sm_trainer_info info;
    REQUIRE(sm_trainer_get_info(t, &info) == SM_OK);
    CHECK(info.publishes == 1);
    sm_train_result r;
    CHECK(sm_trainer_step(t, 0, &r) == SM_ERR_STATE); // no data
    const std::string text = story_text();
    REQUIRE(sm_trainer_set_text(t, text.data(), text.size(), 0.2f) == SM_OK);
    REQUIRE(sm_trainer_get_info(t, &info) == SM_OK);
    CHECK(info.train_sequences > 0);
    CHECK(info.heldout_sequences > 0);
    const std::vector<float> before = last_logits(L.session, 1);
    REQUIRE(sm_trainer_step(t, 1, &r) == SM_OK); // one unit: mid-step
    CHECK(r.step_done == 0);
    CHECK(last_logits(L.session, 1) == before);
    while (!r.step_done) REQUIRE(sm_trainer_step(t, 1, &r) == SM_OK);
    CHECK(r.step == 1);
    CHECK(r.loss > 0.0f);
    CHECK(last_logits(L.session, 1) != before);
    float held = 0;
    REQUIRE(sm_trainer_eval(t, 0, &held) == SM_OK);
    CHECK(std::isfinite(held));
    sm_trainer_destroy(t);
}

TEST_CASE("trainer api: resume from a checkpoint and save the model as GGUF", "[train][api][checkpoint]") {
    const std::string text = story_text();
    auto run = [&](int steps, std::vector<uint8_t> *ckpt_in, std::vector<uint8_t> *ckpt_out, const std::string &gguf) {
        smtest::Loaded L;
        REQUIRE(smtest::load(L, smtest::stories_path("gguf"), SM_ISA_AUTO, sm_model_desc_default(), 2));
        sm_trainer_desc d = small_desc();
        sm_trainer *t = nullptr;
        REQUIRE(sm_trainer_create(L.model, &d, &t) == SM_OK);
        REQUIRE(sm_trainer_set_text(t, text.data(), text.size(), 0.1f) == SM_OK);
        if (ckpt_in) REQUIRE(sm_trainer_load(t, ckpt_in->data(), ckpt_in->size()) == SM_OK);
        sm_train_result r{};
        while (r.step < steps) REQUIRE(sm_trainer_step(t, 300, &r) == SM_OK);
        size_t n = 0;
        REQUIRE(sm_trainer_save(t, nullptr, 0, &n) == SM_OK);
        ckpt_out->resize(n);
        REQUIRE(sm_trainer_save(t, ckpt_out->data(), n, &n) == SM_OK);
        if (!gguf.empty())
            REQUIRE(sm_trainer_save_gguf(t, SM_TRAINER_WEIGHTS, smtest::stories_path("gguf").c_str(), gguf.c_str()) == SM_OK);
        sm_trainer_destroy(t);
    };
    std::vector<uint8_t> full, half, resumed, dummy;
    const std::string a = smtest::temp_path("trained_a.gguf"), b = smtest::temp_path("trained_b.gguf");
    run(4, nullptr, &full, a);
    run(2, nullptr, &half, "");
    run(4, &half, &resumed, b);
    CHECK(full == resumed);
    CHECK(smtest::read_file(a) == smtest::read_file(b)); // no timestamps: same bytes

    // the saved model loads and runs, with the trained weights
    smtest::Loaded L;
    REQUIRE(smtest::load(L, a, SM_ISA_AUTO, sm_model_desc_default()));
    sm_model_info mi;
    REQUIRE(sm_model_get_info(L.model, &mi) == SM_OK);
    CHECK(mi.n_vocab == 512);
    CHECK(std::string(mi.tokenizer) == "llama");
    smtest::Loaded O;
    REQUIRE(smtest::load(O, smtest::stories_path("gguf"), SM_ISA_AUTO, sm_model_desc_default()));
    CHECK(last_logits(L.session, 1) != last_logits(O.session, 1));

    // a checkpoint from other data is refused
    smtest::Loaded M;
    REQUIRE(smtest::load(M, smtest::stories_path("gguf"), SM_ISA_AUTO, sm_model_desc_default()));
    sm_trainer_desc d = small_desc();
    sm_trainer *t = nullptr;
    REQUIRE(sm_trainer_create(M.model, &d, &t) == SM_OK);
    REQUIRE(sm_trainer_set_text(t, text.data(), text.size() / 2, 0.1f) == SM_OK);
    CHECK(sm_trainer_load(t, half.data(), half.size()) == SM_ERR_MISMATCH);
    sm_trainer_destroy(t);
}

// Activation checkpointing runs each layer's forward again before its backward: the same
// operations in the same order, so the same bits, with one layer's activations held.
TEST_CASE("trainer api: activation checkpointing trains the same bits in less memory", "[train][api][recompute]") {
    const std::string text = story_text();
    auto run = [&](int recompute, uint32_t budget, size_t *activation_bytes) {
        smtest::Loaded L;
        REQUIRE(smtest::load(L, smtest::stories_path("gguf"), SM_ISA_AUTO, sm_model_desc_default(), 2));
        sm_trainer_desc d = small_desc();
        d.recompute = recompute;
        sm_trainer *t = nullptr;
        REQUIRE(sm_trainer_create(L.model, &d, &t) == SM_OK);
        sm_trainer_info info;
        REQUIRE(sm_trainer_get_info(t, &info) == SM_OK);
        *activation_bytes = info.activation_bytes;
        REQUIRE(sm_trainer_set_text(t, text.data(), text.size(), 0.1f) == SM_OK);
        sm_train_result r{};
        while (r.step < 3) REQUIRE(sm_trainer_step(t, budget, &r) == SM_OK);
        const std::string out = smtest::temp_path("recompute_" + std::to_string(recompute) + "_" + std::to_string(budget) +
                                                  ".gguf");
        REQUIRE(sm_trainer_save_gguf(t, SM_TRAINER_WEIGHTS, nullptr, out.c_str()) == SM_OK);
        sm_trainer_destroy(t);
        return smtest::read_file(out);
    };
    size_t kept = 0, recomputed = 0;
    const std::vector<uint8_t> a = run(0, 0, &kept), b = run(1, 0, &recomputed), c = run(1, 300, &recomputed);
    INFO("activations: " << kept << " bytes kept, " << recomputed << " with recompute");
    CHECK(b == a);
    CHECK(c == a);
    CHECK(recomputed < kept / 2);
}
