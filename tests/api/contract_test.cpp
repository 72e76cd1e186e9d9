// The API contract: every public function against NULL handles, NULL out-pointers,
// desc fields out of their documented ranges, stale handles and calls in the wrong state,
// each answered with the status the header names (and never a crash: the sanitize build
// runs these too).
#include <catch2/catch.hpp>

#include "api/api_fixture.h"
#include "test_support.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using apitest::World;

namespace {

constexpr sm_status kInvalid = SM_ERR_INVALID_ARGUMENT;

std::string last(const World &w) { return sm_last_error(w.rt); }

} // namespace

TEST_CASE("api contract: every function refuses NULL handles; destroy(NULL) is a no-op", "[api]") {
    sm_step_result r;
    sm_session_info si;
    sm_model_info mi;
    sm_memory_stats ms;
    size_t n = 0;
    int32_t tok = 1;
    float logit = 0;
    const float *lp = nullptr;
    char buf[64];
    uint32_t units = 0;
    sm_session *s = nullptr;
    sm_model *m = nullptr;
    const sm_chat_message msg{"user", "hi"};
    CHECK(sm_runtime_memory(nullptr, &ms) == kInvalid);
    CHECK(std::string(sm_runtime_isa(nullptr)) == "none");
    CHECK(std::string(sm_last_error(nullptr)).size() > 0);
    CHECK(sm_model_memory_required(nullptr, "x", nullptr, nullptr, &n) == kInvalid);
    CHECK(sm_model_load(nullptr, "x", nullptr, nullptr, &m) == kInvalid);
    CHECK(sm_model_get_info(nullptr, &mi) == kInvalid);
    CHECK(sm_model_describe(nullptr, buf, sizeof buf, &n) == kInvalid);
    CHECK(sm_tokenize(nullptr, "x", 1, 0, &tok, 1, &n) == kInvalid);
    CHECK(sm_detokenize(nullptr, &tok, 1, buf, sizeof buf, &n) == kInvalid);
    CHECK(sm_chat_format(nullptr, &msg, 1, 1, buf, sizeof buf, &n) == kInvalid);
    CHECK(sm_session_create(nullptr, nullptr, &s) == kInvalid);
    CHECK(sm_session_submit_text(nullptr, "x", 1) == kInvalid);
    CHECK(sm_session_submit_tokens(nullptr, &tok, 1) == kInvalid);
    CHECK(sm_session_reset(nullptr) == kInvalid);
    CHECK(sm_session_cancel(nullptr) == kInvalid);
    CHECK(sm_session_step(nullptr, 0, &r) == kInvalid);
    CHECK(sm_model_step(nullptr, 0, &units) == kInvalid);
    CHECK(sm_session_poll(nullptr, &r) == kInvalid);
    CHECK(sm_model_start_async(nullptr) == kInvalid);
    CHECK(sm_model_stop_async(nullptr) == kInvalid);
    CHECK(sm_session_eval(nullptr, &tok, 1, &logit, 1) == kInvalid);
    CHECK(sm_session_logits(nullptr, &lp, nullptr) == kInvalid);
    CHECK(sm_session_get_info(nullptr, &si) == kInvalid);
    CHECK(sm_session_save(nullptr, buf, sizeof buf, &n) == kInvalid);
    CHECK(sm_session_load(nullptr, buf, sizeof buf) == kInvalid);
    CHECK(sm_convert_llama2c(nullptr, "a", "b", "c") == kInvalid);
    CHECK(sm_session_destroy(nullptr) == SM_OK);
    CHECK(sm_model_destroy(nullptr) == SM_OK);
    CHECK(sm_runtime_destroy(nullptr) == SM_OK);
}

TEST_CASE("api contract: NULL out-pointers and arrays are refused with a message", "[api]") {
    World w;
    REQUIRE(w.load());
    sm_session *s = w.session();
    REQUIRE(s);
    size_t n = 0;
    char buf[64];
    const float *lp = nullptr;
    CHECK(sm_runtime_create(nullptr, nullptr) == kInvalid);
    sm_runtime_desc rd = sm_runtime_desc_default();
    CHECK(sm_runtime_create(&rd, nullptr) == kInvalid);
    sm_runtime *rt2 = reinterpret_cast<sm_runtime *>(&n);
    CHECK(sm_runtime_create(nullptr, &rt2) == kInvalid);
    CHECK(rt2 == nullptr); // *out is cleared whenever out is given
    CHECK(sm_runtime_memory(w.rt, nullptr) == kInvalid);
    CHECK(sm_model_memory_required(w.rt, nullptr, nullptr, nullptr, &n) == kInvalid);
    CHECK(sm_model_memory_required(w.rt, apitest::model_path().c_str(), nullptr, nullptr, nullptr) == kInvalid);
    CHECK(sm_model_load(w.rt, apitest::model_path().c_str(), nullptr, nullptr, nullptr) == kInvalid);
    sm_model *m2 = nullptr;
    CHECK(sm_model_load(w.rt, nullptr, nullptr, nullptr, &m2) == kInvalid);
    CHECK(sm_model_get_info(w.model, nullptr) == kInvalid);
    CHECK(sm_model_describe(w.model, nullptr, 10, &n) == kInvalid);
    CHECK(sm_model_describe(w.model, nullptr, 0, &n) == SM_OK); // the size query
    CHECK(sm_tokenize(w.model, nullptr, 3, 0, nullptr, 0, &n) == kInvalid);
    CHECK(sm_tokenize(w.model, "abc", 3, 0, nullptr, 0, nullptr) == kInvalid);
    CHECK(sm_tokenize(w.model, "abc", 3, 0, nullptr, 5, &n) == kInvalid);
    CHECK(sm_detokenize(w.model, nullptr, 2, buf, sizeof buf, &n) == kInvalid);
    CHECK(sm_detokenize(w.model, nullptr, 0, buf, sizeof buf, nullptr) == kInvalid);
    CHECK(sm_chat_format(w.model, nullptr, 1, 1, buf, sizeof buf, &n) == kInvalid);
    const sm_chat_message bad{nullptr, "x"};
    CHECK(sm_chat_format(w.model, &bad, 1, 1, buf, sizeof buf, &n) == kInvalid);
    CHECK(sm_session_create(w.model, nullptr, nullptr) == kInvalid);
    CHECK(sm_session_submit_text(s, nullptr, 4) == kInvalid);
    CHECK(sm_session_submit_tokens(s, nullptr, 4) == kInvalid);
    CHECK(sm_session_step(s, 0, nullptr) == kInvalid);
    CHECK(sm_session_poll(s, nullptr) == kInvalid);
    CHECK(sm_session_eval(s, nullptr, 3, nullptr, 0) == kInvalid);
    CHECK(sm_session_logits(s, nullptr, nullptr) == kInvalid);
    CHECK(sm_session_get_info(s, nullptr) == kInvalid);
    CHECK(sm_session_save(s, buf, sizeof buf, nullptr) == kInvalid);
    CHECK(sm_session_load(s, nullptr, 10) == kInvalid);
    CHECK(sm_convert_llama2c(w.rt, nullptr, "b", "c") == kInvalid);
    CHECK(!last(w).empty());
    (void)lp;
}

namespace {
void *test_alloc(void *, size_t bytes, size_t align) {
    void *p = nullptr;
    return posix_memalign(&p, align, bytes) == 0 ? p : nullptr;
}
void test_free(void *, void *p) { free(p); }
void test_parallel_for(void *, void (*fn)(void *, int), void *ctx, int n) {
    for (int i = 0; i < n; i++) fn(ctx, i);
}
} // namespace

TEST_CASE("api contract: runtime desc fields out of range are refused", "[api]") {
    auto create = [](const sm_runtime_desc &d) {
        sm_runtime *rt = nullptr;
        const sm_status st = sm_runtime_create(&d, &rt);
        sm_runtime_destroy(rt);
        return st;
    };
    sm_runtime_desc d = sm_runtime_desc_default();
    d.memory_budget = 1 << 20;
    CHECK(create(d) == SM_OK);
    sm_runtime_desc x = d;
    x.struct_size = 4;
    CHECK(create(x) == kInvalid);
    x = d;
    x.memory_budget = 0;
    CHECK(create(x) == kInvalid);
    x = d;
    x.threads = -1;
    CHECK(create(x) == kInvalid);
    x.threads = 66;
    CHECK(create(x) == kInvalid);
    x = d;
    x.isa = static_cast<sm_isa>(42); // was undefined behaviour (UBSan in runtime_api.cpp)
    CHECK(create(x) == kInvalid);
    x.isa = static_cast<sm_isa>(-1);
    CHECK(create(x) == kInvalid);
    // A host allocator needs both functions: with free NULL the block could never go back.
    sm_allocator a{test_alloc, nullptr, nullptr};
    x = d;
    x.allocator = &a;
    CHECK(create(x) == kInvalid);
    a = {nullptr, test_free, nullptr};
    CHECK(create(x) == kInvalid);
    a = {test_alloc, test_free, nullptr};
    CHECK(create(x) == SM_OK);
    // A job system needs parallel_for and at least one task per call.
    sm_job_system j{nullptr, 2, nullptr};
    x = d;
    x.jobs = &j;
    CHECK(create(x) == kInvalid);
    j = {test_parallel_for, 0, nullptr};
    CHECK(create(x) == kInvalid);
    j = {test_parallel_for, -3, nullptr};
    CHECK(create(x) == kInvalid);
    j = {test_parallel_for, 1, nullptr};
    CHECK(create(x) == SM_OK);
}

TEST_CASE("api contract: model desc fields out of range are refused, not replaced by defaults", "[api]") {
    World w;
    REQUIRE(w.load());
    const std::string path = apitest::model_path();
    auto both = [&](const sm_model_desc &md, const char *field) {
        size_t bytes = 1;
        sm_model *m = nullptr;
        const sm_status a = sm_model_memory_required(w.rt, path.c_str(), nullptr, &md, &bytes);
        const std::string msg = last(w);
        const sm_status b = sm_model_load(w.rt, path.c_str(), nullptr, &md, &m);
        sm_model_destroy(m);
        INFO(field << ": " << msg);
        CHECK(a == kInvalid);
        CHECK(b == kInvalid);
        CHECK(m == nullptr);
        CHECK(msg.find(field) != std::string::npos);
    };
    const sm_model_desc d0 = sm_model_desc_default();
    sm_model_desc d = d0;
    d.max_sessions = -1;
    both(d, "max_sessions");
    d.max_sessions = 65;
    both(d, "max_sessions");
    d = d0;
    d.n_ctx = -5;
    both(d, "n_ctx");
    d.n_ctx = 1;
    both(d, "n_ctx");
    d = d0;
    d.max_batch = -1;
    both(d, "max_batch");
    d.max_batch = 4097;
    both(d, "max_batch");
    d = d0;
    d.max_text_bytes = -100;
    both(d, "max_text_bytes");
    d = d0;
    d.n_sinks = -1;
    both(d, "n_sinks");
    d.n_sinks = 65;
    both(d, "n_sinks");
    d = d0;
    d.n_ctx = 8;
    d.n_sinks = 8; // a window of nothing
    both(d, "n_sinks");
    d = d0;
    d.all_logits = 2;
    both(d, "all_logits");
    d = d0;
    d.async_worker = -1;
    both(d, "async_worker");
    d = d0;
    d.kv_type = 7;
    both(d, "kv_type");
    d = d0;
    d.struct_size = 3;
    both(d, "struct_size");
    // 0 takes the documented default.
    d = d0;
    d.max_sessions = d.max_batch = d.max_text_bytes = d.n_ctx = 0;
    sm_model *m = nullptr;
    REQUIRE(sm_model_load(w.rt, path.c_str(), nullptr, &d, &m) == SM_OK);
    sm_model_info info;
    REQUIRE(sm_model_get_info(m, &info) == SM_OK);
    CHECK(info.max_sessions == 1);
    CHECK(info.max_batch == 64);
    CHECK(info.n_ctx == (info.n_ctx_train < 2048 ? info.n_ctx_train : 2048));
    CHECK(sm_model_destroy(m) == SM_OK);
}

TEST_CASE("api contract: a 0-3 byte .gguf is reported as too short for a GGUF header", "[api]") {
    World w;
    REQUIRE(w.load());
    for (size_t len = 0; len < 4; len++) {
        const std::string p = smtest::temp_path("short" + std::to_string(len) + ".gguf");
        smtest::write_file(p, std::vector<uint8_t>(len, 'G'));
        sm_model *m = nullptr;
        CHECK(sm_model_load(w.rt, p.c_str(), nullptr, nullptr, &m) == SM_ERR_FORMAT);
        CHECK(last(w).find("GGUF") != std::string::npos);
        CHECK(last(w).find("llama2.c") == std::string::npos);
    }
}

TEST_CASE("api contract: session desc fields out of range are refused with the header's status", "[api]") {
    World w;
    REQUIRE(w.load());
    auto create = [&](const sm_session_desc &d) {
        sm_session *s = nullptr;
        const sm_status st = sm_session_create(w.model, &d, &s);
        sm_session_destroy(s);
        return st;
    };
    const sm_session_desc d0 = sm_session_desc_default();
    sm_session_desc d = d0;
    const char *empty[] = {""};
    const char *null_one[] = {nullptr};
    const char *fine[] = {"ok"};
    d.stop_strings = empty;
    d.n_stop_strings = 1;
    CHECK(create(d) == kInvalid);
    d.stop_strings = null_one;
    CHECK(create(d) == kInvalid);
    d.stop_strings = nullptr; // a count without an array
    CHECK(create(d) == kInvalid);
    d = d0;
    d.choices = empty;
    d.n_choices = 1;
    CHECK(create(d) == kInvalid);
    d.choices = null_one;
    CHECK(create(d) == kInvalid);
    d.choices = fine;
    CHECK(create(d) == SM_OK);
    // Beyond the planned room: capacity.
    d = d0;
    const char *nine[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    d.stop_strings = nine;
    d.n_stop_strings = 9;
    CHECK(create(d) == SM_ERR_CAPACITY);
    const std::string long_stop(193, 'x');
    const char *too_long[] = {long_stop.c_str()};
    d.stop_strings = too_long;
    d.n_stop_strings = 1;
    CHECK(create(d) == SM_ERR_CAPACITY);
    d = d0;
    d.max_tokens = -1;
    CHECK(create(d) == kInvalid);
    d = d0;
    d.stop_at_eos = 2;
    CHECK(create(d) == kInvalid);
    d = d0;
    d.sampler.top_k = -1;
    CHECK(create(d) == kInvalid);
    d = d0;
    d.sampler.min_p = 1.5f;
    CHECK(create(d) == kInvalid);
    d = d0;
    d.sampler.temperature = -1;
    CHECK(create(d) == kInvalid);
    d = d0;
    d.sampler.penalty_window = -1;
    CHECK(create(d) == kInvalid);
    d = d0;
    d.sampler.n_logit_bias = 1; // array NULL
    CHECK(create(d) == kInvalid);
    const sm_logit_bias outside{99999, 1.0f};
    d.sampler.logit_bias = &outside;
    CHECK(create(d) == kInvalid);
    d = d0;
    d.struct_size = 1;
    CHECK(create(d) == kInvalid);
}

TEST_CASE("api contract: tokenize refuses unknown flags; detokenize unknown ids", "[api]") {
    World w;
    REQUIRE(w.load());
    int32_t t[8];
    size_t n = 0;
    CHECK(sm_tokenize(w.model, "a", 1, 0x80, t, 8, &n) == kInvalid);
    CHECK(sm_tokenize(w.model, "a", 1, SM_TOKENIZE_ADD_BOS | SM_TOKENIZE_PARSE_SPECIAL, t, 8, &n) == SM_OK);
    const int32_t bad = -1;
    char buf[8];
    CHECK(sm_detokenize(w.model, &bad, 1, buf, sizeof buf, &n) == kInvalid);
}

TEST_CASE("api contract: stale handles are refused, even when their slot holds a new object", "[api]") {
    World w;
    sm_model_desc md = sm_model_desc_default();
    md.max_sessions = 1;
    REQUIRE(w.load(md));
    sm_session *old = w.session();
    REQUIRE(old);
    REQUIRE(w.destroy(old) == SM_OK);
    sm_session *fresh = w.session(); // the same slot of the model's pool
    REQUIRE(fresh);
    CHECK(fresh != old);
    sm_step_result r;
    sm_session_info si;
    size_t n = 0;
    char buf[16];
    const float *lp = nullptr;
    const int32_t tok = 1;
    CHECK(sm_session_submit_text(old, "x", 1) == kInvalid);
    CHECK(sm_session_submit_tokens(old, &tok, 1) == kInvalid);
    CHECK(sm_session_step(old, 0, &r) == kInvalid);
    CHECK(sm_session_poll(old, &r) == kInvalid);
    CHECK(sm_session_cancel(old) == kInvalid);
    CHECK(sm_session_reset(old) == kInvalid);
    CHECK(sm_session_eval(old, &tok, 1, nullptr, 0) == kInvalid);
    CHECK(sm_session_logits(old, &lp, nullptr) == kInvalid);
    CHECK(sm_session_get_info(old, &si) == kInvalid);
    CHECK(sm_session_save(old, nullptr, 0, &n) == kInvalid);
    CHECK(sm_session_load(old, buf, sizeof buf) == kInvalid);
    CHECK(sm_session_destroy(old) == kInvalid);
    // The fresh session is untouched by all of it.
    CHECK(sm_session_get_info(fresh, &si) == SM_OK);
    CHECK(si.phase == SM_PHASE_IDLE);
    CHECK(si.n_pending == 0);

    // A destroyed model's handle, too.
    REQUIRE(w.destroy(fresh) == SM_OK);
    sm_model *dead = w.model;
    REQUIRE(sm_model_destroy(dead) == SM_OK);
    w.model = nullptr;
    sm_model_info mi;
    sm_session *s = nullptr;
    CHECK(sm_model_get_info(dead, &mi) == kInvalid);
    CHECK(sm_session_create(dead, nullptr, &s) == kInvalid);
    CHECK(sm_model_step(dead, 0, nullptr) == kInvalid);
    CHECK(sm_tokenize(dead, "x", 1, 0, nullptr, 0, &n) == kInvalid);
    CHECK(sm_model_destroy(dead) == kInvalid);
}

// Issue 22's reproduction: sm_model_destroy with a live session freed the model; the stale
// session's destroy then broke the next model (its session's step failed, and its one
// slot took a second session).
TEST_CASE("api contract: a model with live sessions and a runtime with live models refuse to go", "[api]") {
    std::string logged;
    sm_runtime_desc rd = sm_runtime_desc_default();
    rd.memory_budget = size_t(64) << 20;
    rd.log = [](void *u, sm_log_level, const char *msg) { *static_cast<std::string *>(u) = msg; };
    rd.log_user = &logged;
    sm_runtime *rt = nullptr;
    REQUIRE(sm_runtime_create(&rd, &rt) == SM_OK);
    sm_model *m = nullptr;
    REQUIRE(sm_model_load(rt, apitest::model_path().c_str(), nullptr, nullptr, &m) == SM_OK);
    sm_session *s = nullptr;
    REQUIRE(sm_session_create(m, nullptr, &s) == SM_OK);
    CHECK(sm_model_destroy(m) == SM_ERR_STATE);
    CHECK(logged.find("session") != std::string::npos); // told through the host's log
    CHECK(sm_runtime_destroy(rt) == SM_ERR_STATE);
    CHECK(std::string(sm_last_error(rt)).find("model") != std::string::npos);
    // Nothing was freed: the session still runs.
    REQUIRE(sm_session_submit_text(s, "Once", 4) == SM_OK);
    sm_step_result r;
    CHECK(sm_session_step(s, 0, &r) == SM_OK);
    REQUIRE(sm_session_destroy(s) == SM_OK);
    REQUIRE(sm_model_destroy(m) == SM_OK);
    CHECK(sm_session_destroy(s) == kInvalid); // stale now, and harmless
    // The next model is whole: its session steps, its one slot takes one session.
    sm_model *m2 = nullptr;
    REQUIRE(sm_model_load(rt, apitest::model_path().c_str(), nullptr, nullptr, &m2) == SM_OK);
    sm_session *a = nullptr, *b = nullptr;
    REQUIRE(sm_session_create(m2, nullptr, &a) == SM_OK);
    CHECK(sm_session_create(m2, nullptr, &b) == SM_ERR_CAPACITY);
    REQUIRE(sm_session_submit_text(a, "Once", 4) == SM_OK);
    CHECK(sm_session_step(a, 1000, &r) == SM_OK);
    CHECK(sm_session_destroy(s) == kInvalid); // the old handle does not reach the new slot
    sm_session_info si;
    CHECK(sm_session_get_info(a, &si) == SM_OK);
    REQUIRE(sm_session_destroy(a) == SM_OK);
    REQUIRE(sm_model_destroy(m2) == SM_OK);
    REQUIRE(sm_runtime_destroy(rt) == SM_OK);
}

TEST_CASE("api contract: calls that need the model to themselves refuse while the async worker runs", "[api][async]") {
    World w;
    sm_model_desc md = sm_model_desc_default();
    CHECK(md.async_worker == 0);
    REQUIRE(w.load(md));
    CHECK(sm_model_start_async(w.model) == SM_ERR_STATE); // loaded without a worker
    World a;
    md.async_worker = 1;
    md.max_sessions = 2;
    REQUIRE(a.load(md));
    sm_session *s = a.session();
    REQUIRE(s);
    const int32_t tok[2] = {1, 400};
    REQUIRE(sm_session_eval(s, tok, 2, nullptr, 0) == SM_OK); // logits exist
    REQUIRE(sm_model_start_async(a.model) == SM_OK);
    CHECK(sm_model_start_async(a.model) == SM_OK); // already running: nothing changes
    sm_step_result r;
    const float *lp = nullptr;
    CHECK(sm_session_step(s, 100, &r) == SM_ERR_STATE);
    CHECK(sm_model_step(a.model, 100, nullptr) == SM_ERR_STATE);
    CHECK(sm_session_eval(s, tok, 1, nullptr, 0) == SM_ERR_STATE);
    CHECK(sm_session_logits(s, &lp, nullptr) == SM_ERR_STATE);
    // async: ok / pauses
    CHECK(sm_session_poll(s, &r) == SM_OK);
    sm_session_info si;
    CHECK(sm_session_get_info(s, &si) == SM_OK);
    CHECK(sm_session_cancel(s) == SM_OK);
    CHECK(sm_session_reset(s) == SM_OK);
    sm_session *t = a.session();
    CHECK(t != nullptr);
    CHECK(a.destroy(t) == SM_OK);
    REQUIRE(sm_model_stop_async(a.model) == SM_OK);
    CHECK(sm_model_stop_async(a.model) == SM_OK);
    CHECK(sm_session_logits(s, &lp, nullptr) == SM_ERR_STATE); // reset: no logits now
}

TEST_CASE("api contract: the logits before anything was evaluated are a state error", "[api]") {
    World w;
    REQUIRE(w.load());
    sm_session *s = w.session();
    const float *lp = nullptr;
    CHECK(sm_session_logits(s, &lp, nullptr) == SM_ERR_STATE);
    int32_t t = 1;
    float l[512];
    CHECK(sm_session_eval(s, &t, 1, l, 10) == SM_ERR_CAPACITY);
    int32_t two[2] = {1, 2};
    CHECK(sm_session_eval(s, two, 2, l, 512) == SM_ERR_STATE); // needs all_logits
}

// Issue 22: sm_session_get_info said IDLE ("nothing submitted") with 100 tokens queued.
TEST_CASE("api contract: queued tokens make the phase PREFILL before any step", "[api]") {
    World w;
    REQUIRE(w.load());
    sm_session *s = w.session();
    std::vector<int32_t> t(100, 300);
    t[0] = 1;
    REQUIRE(sm_session_submit_tokens(s, t.data(), t.size()) == SM_OK);
    sm_session_info si;
    REQUIRE(sm_session_get_info(s, &si) == SM_OK);
    CHECK(si.phase == SM_PHASE_PREFILL);
    CHECK(si.n_pending == 100);
    sm_step_result r;
    REQUIRE(sm_session_poll(s, &r) == SM_OK);
    CHECK(r.phase == SM_PHASE_PREFILL);
}

// The queue's capacity is max_text_bytes + 256 tokens (in the queue or in flight), and a
// submit beyond it fails then, whole, instead of a save failing to load later.
TEST_CASE("api contract: the input queue's documented capacity is enforced at submit", "[api]") {
    World w;
    sm_model_desc md = sm_model_desc_default();
    md.max_text_bytes = 100;
    REQUIRE(w.load(md));
    sm_session *s = w.session();
    const int cap = 100 + 256;
    std::vector<int32_t> t(static_cast<size_t>(cap) + 1, 300);
    CHECK(sm_session_submit_tokens(s, t.data(), t.size()) == SM_ERR_CAPACITY);
    CHECK(last(w).find("356") != std::string::npos);
    sm_session_info si;
    REQUIRE(sm_session_get_info(s, &si) == SM_OK);
    CHECK(si.n_pending == 0); // nothing of it was queued
    CHECK(sm_session_submit_tokens(s, t.data(), static_cast<size_t>(cap) - 10) == SM_OK);
    // Rows taken into a forward still count until they are through the model.
    sm_step_result r;
    REQUIRE(sm_session_step(s, 1, &r) == SM_OK);
    REQUIRE(sm_session_get_info(s, &si) == SM_OK);
    CHECK(sm_session_submit_tokens(s, t.data(), static_cast<size_t>(cap - si.n_pending) + 1) == SM_ERR_CAPACITY);
    CHECK(sm_session_submit_tokens(s, t.data(), static_cast<size_t>(cap - si.n_pending)) == SM_OK);
}
