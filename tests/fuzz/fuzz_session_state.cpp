// libFuzzer target: sm_session_load on saved sessions, which are game save files a player
// can edit. The input patches a real saved state (2 bytes offset, 2 bytes signed length
// change, then the bytes to write there), keeps its header and recomputes its checksum, so
// the fuzzing reaches the field checks behind the checksum: an FNV-1a sum stops accidents,
// not edits. Every load must either fail with a status or leave a session that generates
// without fault (ASan and UBSan watch).
//
// The model is tiny_model.h's llama2.c checkpoint, written once at start (dim 16, one layer,
// seeded random weights), with the stories260K tokenizer (tests/data/tok512.bin): the field
// checks do not depend on the weights, and a tiny model keeps the state small enough for
// the 2-byte offset to reach all of it and each run to take well under a millisecond.
#include "smallmind/smallmind.h"
#include "fuzz/tiny_model.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

struct Fixture {
    sm_runtime *rt = nullptr;
    sm_model *model = nullptr;
    sm_session *session = nullptr;
    std::vector<uint8_t> state; // a real saved state, mid-generation
};

[[noreturn]] void fail(const Fixture &f, const char *what) {
    fprintf(stderr, "fuzz_session_state: %s: %s\n", what, f.rt ? sm_last_error(f.rt) : "no runtime");
    exit(1); // a broken fixture, not a finding: libFuzzer must not save an input for it
}

Fixture make() {
    Fixture f;
    sm_runtime_desc rd = sm_runtime_desc_default();
    rd.memory_budget = size_t(8) << 20;
    if (sm_runtime_create(&rd, &f.rt) != SM_OK) fail(f, "runtime");
    sm_model_desc md = sm_model_desc_default();
    md.n_ctx = 64; // a small ring, so a state wraps it within a few dozen tokens
    md.max_batch = 16;
    const std::string model = fuzz::write_tiny_model("fuzz_session_state"), tok = fuzz::tiny_tokenizer_path();
    if (model.empty()) fail(f, "cannot write the tiny model to /tmp");
    const sm_status st = sm_model_load(f.rt, model.c_str(), tok.c_str(), &md, &f.model);
    unlink(model.c_str());
    if (st != SM_OK) fail(f, "model");
    sm_session_desc sd = sm_session_desc_default();
    sd.sampler.temperature = 0.8f;
    sd.sampler.repeat_penalty = 1.1f;
    sd.sampler.penalty_window = 64;
    sd.sampler.seed = 1;
    sd.stop_at_eos = 0;
    // Stop strings that never match in full but often in part, so states hold text back.
    static const char *const stops[] = {"the bigzz", "Once upon a timezz", ". Thezz"};
    sd.stop_strings = stops;
    sd.n_stop_strings = 3;
    if (sm_session_create(f.model, &sd, &f.session) != SM_OK) fail(f, "session");
    sm_session_submit_text(f.session, "Once upon a time", 16);
    int tokens = 0;
    sm_step_result r;
    while (tokens < 80) { // past the 64-position ring
        if (sm_session_step(f.session, 5000, &r) != SM_OK) fail(f, "step");
        tokens += static_cast<int>(r.n_tokens);
    }
    size_t size = 0;
    sm_session_save(f.session, nullptr, 0, &size);
    f.state.resize(size);
    if (sm_session_save(f.session, f.state.data(), f.state.size(), &size) != SM_OK) fail(f, "save");
    return f;
}

// Not inlined, so that tests/fuzz/coverage_ignore.txt keeps its per-byte loop out of the
// coverage instrumentation (a traced comparison per byte, no new paths).
__attribute__((noinline)) uint64_t fnv(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static Fixture f = make();
    constexpr size_t kHeader = 16, kSum = 8; // magic, version, model fingerprint | checksum
    std::vector<uint8_t> body(f.state.begin() + kHeader, f.state.end() - kSum);
    if (size >= 4) {
        const size_t at = (static_cast<size_t>(data[0]) | static_cast<size_t>(data[1]) << 8) % (body.size() + 1);
        const int16_t delta = static_cast<int16_t>(data[2] | data[3] << 8);
        const int64_t len = static_cast<int64_t>(body.size()) + delta;
        body.resize(len < 0 ? 0 : static_cast<size_t>(len));
        for (size_t i = 4; i < size && at + i - 4 < body.size(); i++) body[at + i - 4] = data[i];
    }
    std::vector<uint8_t> state(f.state.begin(), f.state.begin() + kHeader);
    state.insert(state.end(), body.begin(), body.end());
    const uint64_t sum = fnv(state.data(), state.size());
    state.insert(state.end(), reinterpret_cast<const uint8_t *>(&sum), reinterpret_cast<const uint8_t *>(&sum) + kSum);
    if (sm_session_load(f.session, state.data(), state.size()) == SM_OK) {
        // Steps of 1 us do one unit each (a layer or the output head of a chunk): bounded
        // work whatever the machine's speed, as a state may generate without end.
        sm_step_result r;
        for (int i = 0; i < 8; i++)
            if (sm_session_step(f.session, 1, &r) != SM_OK) break;
    }
    return 0;
}
