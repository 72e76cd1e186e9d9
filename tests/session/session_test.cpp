// Sessions through the public API: determinism under slicing and threads, the KV ring,
// save/load, cancel, stop strings, choices, many sessions, async worker, bad input.
#include <catch2/catch.hpp>

#include "model_fixture.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Output {
    std::vector<int32_t> tokens;
    std::string text;
    sm_finish_reason finish = SM_FINISH_NONE;
};

// Steps a session with a fixed budget until it finishes.
Output run(sm_session *s, uint32_t budget_us, size_t max_steps = 2000000) {
    Output o;
    sm_step_result r;
    for (size_t i = 0; i < max_steps; i++) {
        REQUIRE(sm_session_step(s, budget_us, &r) == SM_OK);
        o.tokens.insert(o.tokens.end(), r.tokens, r.tokens + r.n_tokens);
        o.text.append(r.text, r.text_len);
        if (r.finish != SM_FINISH_NONE) {
            o.finish = r.finish;
            break;
        }
    }
    return o;
}

sm_session_desc sampling(uint64_t seed, int max_tokens) {
    sm_session_desc d = sm_session_desc_default();
    d.sampler.temperature = 0.9f;
    d.sampler.top_k = 0;
    d.sampler.top_p = 0.95f;
    d.sampler.min_p = 0.0f;
    d.sampler.seed = seed;
    d.max_tokens = max_tokens;
    d.stop_at_eos = 0;
    return d;
}

Output generate(const std::string &path, sm_isa isa, int threads, uint32_t budget, const sm_session_desc &sd,
                const char *prompt = "Once upon a time", sm_model_desc md = sm_model_desc_default()) {
    smtest::Loaded L;
    REQUIRE(smtest::load(L, path, isa, md, threads, &sd));
    REQUIRE(sm_session_submit_text(L.session, prompt, strlen(prompt)) == SM_OK);
    return run(L.session, budget);
}

} // namespace

TEST_CASE("session: greedy generation continues the fixture text exactly", "[session]") {
    const auto &fx = smtest::Stories::get();
    sm_session_desc sd = sm_session_desc_default();
    sd.sampler.temperature = 0;
    sd.max_tokens = 176;
    Output o = generate(smtest::stories_path("assets"), SM_ISA_AUTO, 1, 0, sd);
    CHECK(o.finish == SM_FINISH_MAX_TOKENS);
    CHECK("Once upon a time" + o.text == fx.text);
}

TEST_CASE("session: same seed, same tokens for every budget slicing and thread count", "[session]") {
    const auto sd = sampling(7, 60);
    for (sm_isa isa : smtest::isas_here()) {
        INFO(smtest::isa_label(isa));
        const Output base = generate(smtest::stories_path("gguf"), isa, 1, 0, sd);
        REQUIRE(base.tokens.size() == 60);
        for (uint32_t budget : {1u, 7u, 50u, 400u, 5000u})
            for (int threads : {1, 2}) {
                INFO("budget " << budget << " us, " << threads << " threads");
                const Output o = generate(smtest::stories_path("gguf"), isa, threads, budget, sd);
                CHECK(o.tokens == base.tokens);
                CHECK(o.text == base.text);
            }
    }
    // An F16 KV cache: the same invariance.
    sm_model_desc half = sm_model_desc_default();
    half.kv_type = SM_KV_F16;
    const Output hb = generate(smtest::stories_path("gguf"), SM_ISA_AUTO, 1, 0, sd, "Once upon a time", half);
    for (uint32_t budget : {1u, 50u})
        for (int threads : {1, 2}) {
            INFO("F16 KV, budget " << budget << " us, " << threads << " threads");
            CHECK(generate(smtest::stories_path("gguf"), SM_ISA_AUTO, threads, budget, sd, "Once upon a time", half).tokens ==
                  hb.tokens);
        }
    // A different seed gives another story.
    CHECK(generate(smtest::stories_path("gguf"), SM_ISA_AUTO, 1, 0, sampling(8, 60)).tokens !=
          generate(smtest::stories_path("gguf"), SM_ISA_AUTO, 1, 0, sampling(7, 60)).tokens);
}

TEST_CASE("session: the ring keeps generating far past its capacity, chunking-invariant", "[session][ring]") {
    sm_model_desc md = sm_model_desc_default();
    md.n_ctx = 48;
    md.n_sinks = 4;
    md.max_batch = 16;
    const auto sd = sampling(3, 480); // 10x the attention span
    const Output a = generate(smtest::stories_path("gguf"), SM_ISA_AUTO, 1, 0, sd, "Once upon a time", md);
    CHECK(a.tokens.size() == 480);
    // One position per forward must give the same tokens as 16-row chunks.
    md.max_batch = 1;
    const Output b = generate(smtest::stories_path("gguf"), SM_ISA_AUTO, 1, 0, sd, "Once upon a time", md);
    CHECK(a.tokens == b.tokens);
    // Teacher-forced long prompt through the ring: chunked vs one-by-one, bit for bit.
    const auto &fx = smtest::Stories::get();
    std::vector<float> l1(512), l2(512);
    for (int batch : {1, 64}) {
        smtest::Loaded L;
        sm_model_desc m2 = sm_model_desc_default();
        m2.n_ctx = 40;
        m2.n_sinks = 4;
        m2.max_batch = batch;
        REQUIRE(smtest::load(L, smtest::stories_path("gguf"), SM_ISA_AUTO, m2));
        const auto in = fx.inputs();
        REQUIRE(sm_session_eval(L.session, in.data(), in.size(), nullptr, 0) == SM_OK);
        const float *l;
        REQUIRE(sm_session_logits(L.session, &l, nullptr) == SM_OK);
        memcpy(batch == 1 ? l1.data() : l2.data(), l, 512 * 4);
    }
    CHECK(l1 == l2);
}

namespace {
void save_and_load(sm_kv_type kv) {
    INFO("kv_type " << kv);
    smtest::Loaded A, B;
    const auto sd = sampling(11, 0);
    sm_model_desc md = sm_model_desc_default();
    md.kv_type = kv;
    REQUIRE(smtest::load(A, smtest::stories_path("gguf"), SM_ISA_AUTO, md, 1, &sd));
    REQUIRE(sm_session_submit_text(A.session, "Once upon a time", 16) == SM_OK);
    // Run until 20 tokens exist, then save mid-generation.
    size_t n = 0;
    sm_step_result r;
    while (n < 20) {
        REQUIRE(sm_session_step(A.session, 100, &r) == SM_OK);
        n += r.n_tokens;
    }
    size_t size = 0;
    REQUIRE(sm_session_save(A.session, nullptr, 0, &size) == SM_OK);
    std::vector<uint8_t> state(size);
    REQUIRE(sm_session_save(A.session, state.data(), state.size(), &size) == SM_OK);
    // Output produced before the save point (still unread in A's queue) is not part of
    // the state: collect it first.
    REQUIRE(sm_session_poll(A.session, &r) == SM_OK);
    auto next = [](sm_session *s, size_t count) {
        std::vector<int32_t> t;
        sm_step_result r;
        while (t.size() < count) {
            REQUIRE(sm_session_step(s, 100, &r) == SM_OK);
            t.insert(t.end(), r.tokens, r.tokens + r.n_tokens);
        }
        t.resize(count);
        return t;
    };
    const auto original = next(A.session, 40);
    REQUIRE(smtest::load(B, smtest::stories_path("gguf"), SM_ISA_AUTO, md, 1, &sd));
    REQUIRE(sm_session_load(B.session, state.data(), state.size()) == SM_OK);
    CHECK(next(B.session, 40) == original);

    // A state from another model shape is refused, and from the other KV type; a damaged
    // one too.
    smtest::Loaded C, D;
    sm_model_desc other = md;
    other.n_ctx = 100;
    REQUIRE(smtest::load(C, smtest::stories_path("gguf"), SM_ISA_AUTO, other, 1, &sd));
    CHECK(sm_session_load(C.session, state.data(), state.size()) == SM_ERR_MISMATCH);
    other = md;
    other.kv_type = kv == SM_KV_F16 ? SM_KV_F32 : SM_KV_F16;
    REQUIRE(smtest::load(D, smtest::stories_path("gguf"), SM_ISA_AUTO, other, 1, &sd));
    CHECK(sm_session_load(D.session, state.data(), state.size()) == SM_ERR_MISMATCH);
    auto bad = state;
    bad[bad.size() / 2] ^= 0x10;
    CHECK(sm_session_load(B.session, bad.data(), bad.size()) == SM_ERR_FORMAT);
    CHECK(sm_session_load(B.session, state.data(), state.size() - 3) != SM_OK);

    // An edited save file (the checksum recomputed, as an editor would) whose last token
    // is out of the vocabulary is refused: the runtime would otherwise look it up. (The
    // token sits after magic, version, fingerprint, vocabulary size, slots and position:
    // byte 32. fuzz_session_state covers every other field.)
    auto edit = [&](size_t at, const void *v, size_t n) {
        auto e = state;
        memcpy(e.data() + at, v, n);
        uint64_t h = 0xcbf29ce484222325ull;
        for (size_t i = 0; i + 8 < e.size(); i++) h = (h ^ e[i]) * 0x100000001b3ull;
        memcpy(e.data() + e.size() - 8, &h, 8);
        return e;
    };
    const int32_t huge = 1 << 30;
    auto edited = edit(32, &huge, 4);
    CHECK(sm_session_load(B.session, edited.data(), edited.size()) == SM_ERR_FORMAT);
    CHECK(std::string(sm_last_error(B.rt)).find("token") != std::string::npos);
    // A position near int64's end (byte 24) would overflow as generation goes on.
    const int64_t far = INT64_MAX - 1;
    edited = edit(24, &far, 8);
    CHECK(sm_session_load(B.session, edited.data(), edited.size()) == SM_ERR_FORMAT);
    REQUIRE(sm_session_load(B.session, state.data(), state.size()) == SM_OK); // still usable
    CHECK(next(B.session, 40) == original);
}
} // namespace

TEST_CASE("session: save and load continue with exactly the same tokens", "[session][save]") {
    save_and_load(SM_KV_F32);
    save_and_load(SM_KV_F16);
}

TEST_CASE("session: cancel stops generation within a step", "[session]") {
    smtest::Loaded L;
    const auto sd = sampling(1, 0); // unlimited
    REQUIRE(smtest::load(L, smtest::stories_path("gguf"), SM_ISA_AUTO, sm_model_desc_default(), 1, &sd));
    REQUIRE(sm_session_submit_text(L.session, "Once", 4) == SM_OK);
    sm_step_result r;
    size_t n = 0;
    for (int i = 0; i < 50; i++) {
        REQUIRE(sm_session_step(L.session, 100, &r) == SM_OK);
        n += r.n_tokens;
    }
    REQUIRE(sm_session_cancel(L.session) == SM_OK);
    Output o = run(L.session, 100, 1000);
    CHECK(o.finish == SM_FINISH_CANCELLED);
    CHECK(o.tokens.size() <= 1);
}

TEST_CASE("session: stop strings end generation and are not shown", "[session]") {
    sm_session_desc sd = sm_session_desc_default();
    sd.sampler.temperature = 0;
    const char *stops[] = {" Lily"};
    sd.stop_strings = stops;
    sd.n_stop_strings = 1;
    Output o = generate(smtest::stories_path("gguf"), SM_ISA_AUTO, 1, 0, sd);
    CHECK(o.finish == SM_FINISH_STOP_STRING);
    // The fixture story continues ", there was a little girl named Lily."
    CHECK(o.text == ", there was a little girl named");
}

TEST_CASE("session: a choice constraint picks one of the given strings", "[session]") {
    sm_session_desc sd = sampling(5, 20);
    const char *choices[] = {"Tom", "Sue", "Ben"};
    sd.choices = choices;
    sd.n_choices = 3;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        sd.sampler.seed = seed;
        Output o = generate(smtest::stories_path("gguf"), SM_ISA_AUTO, 1, 0, sd, "Once upon a time, there was a boy named");
        CHECK(o.finish == SM_FINISH_CHOICE);
        std::string t = o.text;
        while (!t.empty() && t[0] == ' ') t.erase(0, 1);
        CHECK((t == "Tom" || t == "Sue" || t == "Ben"));
    }
}

TEST_CASE("session: choices that part mid-character are spelled byte by byte", "[session]") {
    // The choices share the lead byte of their first character (and two of them their
    // first character): stories260K spells these with byte tokens, so the constraint sees
    // a generated text that ends inside a character and must allow only the bytes that
    // continue a choice.
    const char *choices[] = {"\xC3\xA9t\xC3\xA9", "\xC3\xA8re", "\xC3\xA9l\xC3\xA8ve"};
    sm_session_desc sd = sampling(5, 20);
    sd.sampler.temperature = 3.0f; // spread the draws over every allowed token
    sd.choices = choices;
    sd.n_choices = 3;
    std::set<std::string> seen;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        sd.sampler.seed = seed;
        Output o = generate(smtest::stories_path("gguf"), SM_ISA_AUTO, 1, 0, sd, "Once upon a time, there was a");
        CHECK(o.finish == SM_FINISH_CHOICE);
        std::string t = o.text;
        while (!t.empty() && t[0] == ' ') t.erase(0, 1);
        CHECK((t == choices[0] || t == choices[1] || t == choices[2]));
        seen.insert(t);
    }
    CHECK(seen.size() == 3);
}

TEST_CASE("session: many sessions on one model give each its own tokens", "[session][batch]") {
    // The last two prompts are long enough (with a 256-row batch) for the batch's per-row
    // work and attention to be split across the threads, over several sessions' segments.
    const char *prompts[] = {"Once upon a time", "The cat",
                             "Tom and Lily went to the park. They saw a big tree with red apples. Tom wanted to climb the "
                             "tree but Lily was scared. She said, \"Tom, be careful!\"",
                             "One day, a little girl named Sue found a shiny box in the garden. She opened it and saw a "
                             "tiny bird inside. The bird was sad because it could not fly."};
    std::vector<Output> alone;
    for (int i = 0; i < 4; i++)
        alone.push_back(generate(smtest::stories_path("gguf"), SM_ISA_AUTO, 1, 0, sampling(100 + i, 40), prompts[i]));

    for (int threads : {1, 2}) {
        INFO(threads << " threads");
        sm_runtime_desc d = sm_runtime_desc_default();
        d.memory_budget = size_t(64) << 20;
        d.threads = threads;
        sm_runtime *rt = nullptr;
        REQUIRE(sm_runtime_create(&d, &rt) == SM_OK);
        sm_model_desc md = sm_model_desc_default();
        md.max_sessions = 4;
        md.max_batch = 256;
        sm_model *m = nullptr;
        REQUIRE(sm_model_load(rt, smtest::stories_path("gguf").c_str(), nullptr, &md, &m) == SM_OK);
        sm_session *s[5] = {};
        for (int i = 0; i < 4; i++) {
            const auto sd = sampling(100 + i, 40);
            REQUIRE(sm_session_create(m, &sd, &s[i]) == SM_OK);
            REQUIRE(sm_session_submit_text(s[i], prompts[i], strlen(prompts[i])) == SM_OK);
        }
        CHECK(sm_session_create(m, nullptr, &s[4]) == SM_ERR_CAPACITY); // the pool is full
        std::vector<Output> together(4);
        int finished = 0;
        for (int frame = 0; frame < 100000 && finished < 4; frame++) {
            REQUIRE(sm_model_step(m, 300, nullptr) == SM_OK);
            for (int i = 0; i < 4; i++) {
                sm_step_result r;
                REQUIRE(sm_session_poll(s[i], &r) == SM_OK);
                together[static_cast<size_t>(i)].tokens.insert(together[static_cast<size_t>(i)].tokens.end(), r.tokens,
                                                               r.tokens + r.n_tokens);
                if (r.finish != SM_FINISH_NONE) finished++;
            }
        }
        CHECK(finished == 4);
        for (int i = 0; i < 4; i++) CHECK(together[static_cast<size_t>(i)].tokens == alone[static_cast<size_t>(i)].tokens);
        for (int i = 0; i < 4; i++) sm_session_destroy(s[i]);
        sm_model_destroy(m);
        sm_runtime_destroy(rt);
    }
}

TEST_CASE("session: the async worker produces the same tokens; polling never blocks", "[session][async]") {
    const auto sd = sampling(21, 50);
    const Output sync = generate(smtest::stories_path("gguf"), SM_ISA_AUTO, 1, 0, sd);
    smtest::Loaded L;
    sm_model_desc md = sm_model_desc_default();
    md.async_worker = 1;
    REQUIRE(smtest::load(L, smtest::stories_path("gguf"), SM_ISA_AUTO, md, 1, &sd));
    REQUIRE(sm_model_start_async(L.model) == SM_OK);
    REQUIRE(sm_session_submit_text(L.session, "Once upon a time", 16) == SM_OK);
    Output o;
    // A shared machine can preempt any call for milliseconds (seen: 14 ms), so a few slow
    // polls are the machine's; a poll that waited for the worker would be slow every time.
    int polls = 0, slow = 0;
    for (int i = 0; i < 200000 && o.finish == SM_FINISH_NONE; i++) {
        sm_step_result r;
        const auto t0 = std::chrono::steady_clock::now();
        REQUIRE(sm_session_poll(L.session, &r) == SM_OK);
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
        polls++;
        slow += us >= 5000;
        o.tokens.insert(o.tokens.end(), r.tokens, r.tokens + r.n_tokens);
        o.text.append(r.text, r.text_len);
        o.finish = r.finish;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    INFO(slow << " of " << polls << " polls took 5 ms or more");
    CHECK(slow <= 2 + polls / 100);
    sm_step_result r;
    CHECK(sm_session_step(L.session, 100, &r) == SM_ERR_STATE); // the worker owns the model now
    REQUIRE(sm_model_stop_async(L.model) == SM_OK);
    CHECK(o.tokens == sync.tokens);
    CHECK(o.text == sync.text);
}

TEST_CASE("session: sampler settings are validated; NULL handles are refused", "[session][api]") {
    smtest::Loaded L;
    sm_model_desc md = sm_model_desc_default();
    md.max_sessions = 2;
    REQUIRE(smtest::load(L, smtest::stories_path("gguf"), SM_ISA_AUTO, md));
    sm_session_desc bad = sm_session_desc_default();
    bad.sampler.top_p = 2.0f;
    sm_session *s = nullptr;
    CHECK(sm_session_create(L.model, &bad, &s) == SM_ERR_INVALID_ARGUMENT);
    CHECK(std::string(sm_last_error(L.rt)).find("top_p") != std::string::npos);
    // NaN is outside every range.
    for (int field = 0; field < 4; field++) {
        sm_session_desc nan = sm_session_desc_default();
        (field == 0   ? nan.sampler.temperature
         : field == 1 ? nan.sampler.top_p
         : field == 2 ? nan.sampler.repeat_penalty
                      : nan.sampler.presence_penalty) = NAN;
        CHECK(sm_session_create(L.model, &nan, &s) == SM_ERR_INVALID_ARGUMENT);
    }
    sm_step_result r;
    CHECK(sm_session_step(nullptr, 0, &r) == SM_ERR_INVALID_ARGUMENT);
    CHECK(sm_session_submit_text(nullptr, "x", 1) == SM_ERR_INVALID_ARGUMENT);
    CHECK(sm_session_poll(nullptr, &r) == SM_ERR_INVALID_ARGUMENT);
    CHECK(sm_model_step(nullptr, 0, nullptr) == SM_ERR_INVALID_ARGUMENT);
    CHECK(sm_model_load(nullptr, "x", nullptr, nullptr, nullptr) == SM_ERR_INVALID_ARGUMENT);
    CHECK(sm_tokenize(nullptr, "x", 1, 0, nullptr, 0, nullptr) == SM_ERR_INVALID_ARGUMENT);
    CHECK(sm_runtime_create(nullptr, nullptr) == SM_ERR_INVALID_ARGUMENT);
    CHECK(std::string(sm_last_error(nullptr)).size() > 0);
    const int32_t out_of_range = 99999;
    CHECK(sm_session_submit_tokens(L.session, &out_of_range, 1) == SM_ERR_INVALID_ARGUMENT);
    CHECK(std::string(sm_status_string(SM_ERR_BUDGET)) == "memory budget too small");
}

TEST_CASE("session: an F16 KV cache takes half the memory; a bad kv_type is refused", "[session][api]") {
    sm_model_info info[2];
    for (sm_kv_type kv : {SM_KV_F32, SM_KV_F16}) {
        smtest::Loaded L;
        sm_model_desc md = sm_model_desc_default();
        md.kv_type = kv;
        md.max_sessions = 3;
        REQUIRE(smtest::load(L, smtest::stories_path("gguf"), SM_ISA_AUTO, md));
        REQUIRE(sm_model_get_info(L.model, &info[kv]) == SM_OK);
        CHECK(info[kv].kv_type == kv);
    }
    CHECK(info[SM_KV_F16].kv_bytes * 2 == info[SM_KV_F32].kv_bytes);
    CHECK(info[SM_KV_F16].total_bytes < info[SM_KV_F32].total_bytes);
    smtest::Loaded L;
    sm_model_desc md = sm_model_desc_default();
    md.kv_type = 7;
    CHECK_FALSE(smtest::load(L, smtest::stories_path("gguf"), SM_ISA_AUTO, md));
    CHECK(L.status == SM_ERR_INVALID_ARGUMENT);
    CHECK(std::string(sm_last_error(L.rt)).find("kv_type") != std::string::npos);
}

TEST_CASE("session: a budget too small fails at load with the bytes needed", "[session][api]") {
    sm_runtime_desc d = sm_runtime_desc_default();
    d.memory_budget = 200000;
    const std::string path = smtest::stories_path("gguf"); // before the runtime: a missing file fails here, leaking nothing
    sm_runtime *rt = nullptr;
    REQUIRE(sm_runtime_create(&d, &rt) == SM_OK);
    size_t need = 0;
    REQUIRE(sm_model_memory_required(rt, path.c_str(), nullptr, nullptr, &need) == SM_OK);
    CHECK(need > 200000);
    sm_model *m = nullptr;
    CHECK(sm_model_load(rt, path.c_str(), nullptr, nullptr, &m) == SM_ERR_BUDGET);
    CHECK(std::string(sm_last_error(rt)).find(std::to_string(need)) != std::string::npos);
    sm_runtime_destroy(rt);
    // Exactly the bytes required is enough.
    d.memory_budget = need;
    REQUIRE(sm_runtime_create(&d, &rt) == SM_OK);
    CHECK(sm_model_load(rt, smtest::stories_path("gguf").c_str(), nullptr, nullptr, &m) == SM_OK);
    sm_model_destroy(m);
    sm_runtime_destroy(rt);
}

TEST_CASE("session: sinks are kept forever; without sinks old tokens are truly evicted", "[session][ring]") {
    // Two inputs differing only at position 1. With a window of 32 positions and 5 layers,
    // position 255 can reach back at most 5 x 31 positions through the windows, so without
    // sinks it cannot see position 1 at all; with 4 sinks it attends to it directly.
    const auto &fx = smtest::Stories::get();
    auto a = fx.inputs(), b = fx.inputs();
    b[1] = b[1] == 300 ? 301 : 300;
    auto last_logits = [&](const std::vector<int32_t> &in, int sinks) {
        smtest::Loaded L;
        sm_model_desc md = sm_model_desc_default();
        md.n_ctx = 32;
        md.n_sinks = sinks;
        REQUIRE(smtest::load(L, smtest::stories_path("gguf"), SM_ISA_AUTO, md));
        REQUIRE(sm_session_eval(L.session, in.data(), in.size(), nullptr, 0) == SM_OK);
        const float *l;
        REQUIRE(sm_session_logits(L.session, &l, nullptr) == SM_OK);
        return std::vector<float>(l, l + 512);
    };
    CHECK(last_logits(a, 0) == last_logits(b, 0));
    CHECK(last_logits(a, 4) != last_logits(b, 4));
}
