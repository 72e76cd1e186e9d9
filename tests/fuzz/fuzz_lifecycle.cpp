// libFuzzer target: random sequences of the session lifecycle as a game drives it —
// create / submit / step / poll / save / load / cancel / reset / destroy, the async
// worker on and off, on two models (different KV types and contexts), plus stale handles
// and refused destroys. Checks, besides "no crash, ASan and UBSan silent" (the arena
// poisons what it has not handed out):
//   - every status is one the header names for that call in that state;
//   - every save restores exactly: a session loaded from it saves the same bytes, and,
//     with the worker off, generates the same tokens as the original from that moment;
//   - a stale handle is always SM_ERR_INVALID_ARGUMENT.
// Each input starts from the same state (no sessions, workers stopped) and ends there.
// The model is tiny_model.h's (written at start): the contract does not depend on the
// weights, and a forward pass of it costs microseconds.
#include "smallmind/smallmind.h"
#include "fuzz/tiny_model.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

constexpr int kModels = 2, kSlots = 3, kMaxStale = 16;

[[noreturn]] void die(sm_runtime *rt, const char *what, int line, sm_status st) {
    fprintf(stderr, "fuzz_lifecycle:%d: %s: status %d (%s), last error: %s\n", line, what, static_cast<int>(st),
            sm_status_string(st), rt ? sm_last_error(rt) : "-");
    abort();
}
#define EXPECT(cond, st)                               \
    do {                                               \
        if (!(cond)) die(F.rt, #cond, __LINE__, (st)); \
    } while (0)

// FUZZ_TRACE=1 prints each operation: a failing input read as the calls it makes.
const bool kTrace = getenv("FUZZ_TRACE") != nullptr;

sm_model_desc model_desc(int i) {
    sm_model_desc md = sm_model_desc_default();
    md.max_sessions = kSlots;
    md.n_ctx = i == 0 ? 32 : 48; // small rings: they wrap within a few dozen tokens
    md.n_sinks = i == 0 ? 4 : 0;
    md.max_batch = 8;
    md.max_text_bytes = 64; // input queues of 320 tokens
    md.async_worker = 1;
    md.kv_type = i == 0 ? SM_KV_F32 : SM_KV_F16;
    return md;
}

struct Fixture {
    sm_runtime *rt = nullptr;
    std::string path, tokenizer;
    sm_model *models[kModels] = {};
    sm_model *checkers[kModels] = {}; // same file and desc: restores are run here
    sm_session *checker_session[kModels] = {};
    int32_t bos = 1, n_vocab = 0;
};

Fixture F;

void load_model(int i) {
    const sm_model_desc md = model_desc(i);
    const sm_status st = sm_model_load(F.rt, F.path.c_str(), F.tokenizer.c_str(), &md, &F.models[i]);
    EXPECT(st == SM_OK, st);
}

// The tiny model of tiny_model.h (a forward pass of a few rows costs microseconds, not the
// milliseconds of stories260K), with the rows of the pieces of the stop strings and choices
// (and EOS) scaled up: random weights would spread the samples over all 512 tokens and
// almost never spell a stop string, which stories260K's text does all the time.
void write_model() {
    static const char *const words[] = {"the", ".", "Tim", "yes", "no", "maybe"};
    F.tokenizer = fuzz::tiny_tokenizer_path();
    const std::vector<std::string> pieces = fuzz::read_tokenizer_pieces(F.tokenizer, 512);
    EXPECT(pieces.size() == 512, SM_ERR_IO);
    std::vector<float> scale(512, 1.0f);
    scale[2] = 5.0f; // EOS: stop_at_eos ends some generations
    for (size_t t = 3; t < pieces.size(); t++) {
        const std::string p = pieces[t][0] == ' ' ? pieces[t].substr(1) : pieces[t];
        for (const char *w : words)
            if (!p.empty() && std::string(w).find(p) != std::string::npos) scale[t] = 4.0f;
    }
    const std::string path = fuzz::write_tiny_model("fuzz_lifecycle", &scale);
    EXPECT(!path.empty(), SM_ERR_IO);
    // Loaded through an open descriptor of the unlinked file: op 14 reloads it, and no
    // temporary file outlives the process, however it ends.
    const int fd = open(path.c_str(), O_RDONLY);
    unlink(path.c_str());
    EXPECT(fd >= 0, SM_ERR_IO);
    F.path = "/proc/self/fd/" + std::to_string(fd);
}

void init() {
    sm_runtime_desc rd = sm_runtime_desc_default();
    rd.memory_budget = size_t(16) << 20;
    sm_status st = sm_runtime_create(&rd, &F.rt);
    EXPECT(st == SM_OK, st);
    write_model();
    for (int i = 0; i < kModels; i++) {
        load_model(i);
        const sm_model_desc md = model_desc(i);
        st = sm_model_load(F.rt, F.path.c_str(), F.tokenizer.c_str(), &md, &F.checkers[i]);
        EXPECT(st == SM_OK, st);
        st = sm_session_create(F.checkers[i], nullptr, &F.checker_session[i]);
        EXPECT(st == SM_OK, st);
    }
    sm_model_info info;
    sm_model_get_info(F.models[0], &info);
    F.bos = info.bos;
    F.n_vocab = info.n_vocab;
}

struct Input {
    const uint8_t *p;
    size_t n, at = 0;
    bool more() const { return at < n; }
    uint8_t byte() { return at < n ? p[at++] : 0; }
};

struct Slot {
    sm_session *h = nullptr;
    int model = 0;
};

struct State {
    Slot slots[kModels][kSlots];
    sm_session *stale[kMaxStale] = {};
    int n_stale = 0;
    bool async[kModels] = {};
    std::vector<uint8_t> saved; // the last save, and the model it came from
    int saved_model = -1;
    bool reloaded = false;
};

bool ok_or(sm_status st, sm_status a, sm_status b = SM_OK) { return st == SM_OK || st == a || st == b; }

std::vector<uint8_t> save_of(sm_session *s) {
    size_t size = 0;
    sm_status st = sm_session_save(s, nullptr, 0, &size);
    EXPECT(st == SM_OK, st);
    std::vector<uint8_t> b;
    for (int i = 0; i < 8; i++) { // the worker may move on between the calls: the size with it
        b.resize(2 * size + 4096);
        st = sm_session_save(s, b.data(), b.size(), &size);
        if (st != SM_ERR_CAPACITY) break;
    }
    EXPECT(st == SM_OK, st);
    b.resize(size);
    return b;
}

void trace_tokens(const char *what, const int32_t *t, size_t n) {
    fprintf(stderr, "  %s:", what);
    for (size_t i = 0; i < n; i++) fprintf(stderr, " %d", t[i]);
    fprintf(stderr, "\n");
}

// Runs a session until it is DONE (or IDLE); its tokens. Bounded: every session has a
// max_tokens, and a choice or stop string only ends it sooner.
std::vector<int32_t> finish(sm_session *s) {
    std::vector<int32_t> t;
    sm_step_result r;
    for (int i = 0; i < 64; i++) {
        const sm_status st = sm_session_step(s, 0, &r);
        EXPECT(st == SM_OK, st);
        t.insert(t.end(), r.tokens, r.tokens + r.n_tokens);
        if (r.phase == SM_PHASE_DONE || r.phase == SM_PHASE_IDLE) break;
    }
    if (kTrace) fprintf(stderr, "  finished: phase %d, reason %d\n", static_cast<int>(r.phase), static_cast<int>(r.finish));
    return t;
}

// The save of `s` must restore exactly: byte for byte, and token for token when the
// model is stepped by the host.
void check_save(State &S, int m, sm_session *s, bool run_both) {
    sm_step_result r;
    if (run_both) sm_session_poll(s, &r); // output from before the save point is not in it
    const std::vector<uint8_t> a = save_of(s);
    sm_session *t = F.checker_session[m];
    sm_status st = sm_session_load(t, a.data(), a.size());
    EXPECT(st == SM_OK, st);
    const std::vector<uint8_t> b = save_of(t);
    if (a != b) {
        size_t at = 0;
        while (at < a.size() && at < b.size() && a[at] == b[at]) at++;
        fprintf(stderr, "save of %zu bytes restores as %zu bytes, first difference at byte %zu\n", a.size(), b.size(), at);
    }
    EXPECT(a == b, SM_ERR_INTERNAL);
    if (run_both) {
        const std::vector<int32_t> from_s = finish(s), from_t = finish(t);
        if (kTrace)
            for (const auto *v : {&from_s, &from_t}) trace_tokens("tokens", v->data(), v->size());
        EXPECT(from_s == from_t, SM_ERR_INTERNAL);
    }
    sm_session_reset(t);
    S.saved = a;
    S.saved_model = m;
}

sm_session_desc session_desc(Input &in) {
    static const char *const stops[] = {"the", ".", "Tim"};
    static const char *const choices[] = {"yes", "no", "maybe"};
    const uint8_t v = in.byte();
    sm_session_desc d = sm_session_desc_default();
    d.sampler.temperature = (v & 1) ? 0.0f : 0.8f;
    d.sampler.repeat_penalty = (v & 2) ? 1.1f : 1.0f;
    d.sampler.seed = in.byte();
    d.max_tokens = 1 + (v >> 5) % 6;
    d.stop_at_eos = (v >> 2) & 1;
    if (v & 8) {
        d.stop_strings = stops;
        d.n_stop_strings = 3;
    }
    if ((v & 0x90) == 0x90) {
        d.choices = choices;
        d.n_choices = 3;
    }
    return d;
}

void retire(State &S, sm_session *h) {
    if (S.n_stale < kMaxStale) S.stale[S.n_stale++] = h;
    else S.stale[h == nullptr ? 0 : (reinterpret_cast<uintptr_t>(h) >> 4) % kMaxStale] = h;
}

int live_sessions(const State &S, int m) {
    int n = 0;
    for (const Slot &x : S.slots[m]) n += x.h != nullptr;
    return n;
}

void op(State &S, Input &in) {
    const uint8_t code = in.byte();
    const int m = (code >> 4) & 1;
    Slot &slot = S.slots[m][(code >> 5) % kSlots];
    if (kTrace)
        fprintf(stderr, "op %2d model %d slot %d (%s) async %d\n", code % 16, m, (code >> 5) % kSlots, slot.h ? "live" : "empty",
                S.async[m]);
    sm_session *s = slot.h;
    sm_step_result r;
    sm_status st;
    switch (code % 16) {
    case 0: { // create
        const sm_session_desc d = session_desc(in);
        if (s) break;
        st = sm_session_create(F.models[m], &d, &slot.h);
        EXPECT(st == SM_OK, st); // a free slot of ours is a free slot of the model
        slot.model = m;
        break;
    }
    case 1: // destroy (async on or off)
        if (!s) break;
        st = sm_session_destroy(s);
        EXPECT(st == SM_OK, st);
        slot.h = nullptr;
        retire(S, s);
        break;
    case 2: { // submit tokens
        const int n = in.byte() % 24;
        int32_t t[24];
        for (int i = 0; i < n; i++) t[i] = i == 0 && (n & 1) ? F.bos : static_cast<int32_t>(in.byte()) * 2 % F.n_vocab;
        if (!s) break;
        st = sm_session_submit_tokens(s, t, static_cast<size_t>(n));
        EXPECT(ok_or(st, SM_ERR_CAPACITY), st);
        break;
    }
    case 3: { // submit text
        static const char *const texts[] = {"Once upon a time", "Tim and Sue", " the big red ball. ", "\xE2\x96\x81\xF0\x9F"};
        const char *x = texts[in.byte() % 4];
        if (!s) break;
        st = sm_session_submit_text(s, x, strlen(x));
        EXPECT(ok_or(st, SM_ERR_CAPACITY), st);
        break;
    }
    case 4: { // step
        const uint32_t budget = in.byte() % 4 == 0 ? 0 : 1 + in.byte() % 40;
        if (!s) break;
        st = sm_session_step(s, budget, &r);
        EXPECT(S.async[m] ? st == SM_ERR_STATE : st == SM_OK, st);
        if (kTrace && st == SM_OK) trace_tokens("stepped", r.tokens, r.n_tokens);
        break;
    }
    case 5: { // model step
        uint32_t units = 0;
        st = sm_model_step(F.models[m], 1 + in.byte() % 40, &units);
        EXPECT(S.async[m] ? st == SM_ERR_STATE : st == SM_OK, st);
        break;
    }
    case 6: // poll and info
        if (!s) break;
        st = sm_session_poll(s, &r);
        EXPECT(st == SM_OK && r.phase >= SM_PHASE_IDLE && r.phase <= SM_PHASE_DONE, st);
        sm_session_info si;
        st = sm_session_get_info(s, &si);
        EXPECT(st == SM_OK && si.n_pending >= 0 && si.n_pending <= 64 + 256 && si.n_past >= 0, st);
        EXPECT(si.n_pending == 0 || si.phase == SM_PHASE_PREFILL || si.phase == SM_PHASE_DECODE, st);
        break;
    case 7: // save, and check it restores
        if (!s) break;
        check_save(S, m, s, !S.async[m]);
        break;
    case 8: // load the last save (from this model: restores; from the other: mismatch)
        if (!s || S.saved.empty()) break;
        st = sm_session_load(s, S.saved.data(), S.saved.size());
        EXPECT(S.saved_model == m ? st == SM_OK : st == SM_ERR_MISMATCH, st);
        break;
    case 9: // load a damaged save: refused, and the session is reset
        if (!s || S.saved.empty()) break;
        {
            std::vector<uint8_t> bad = S.saved;
            bad[in.byte() * 131u % bad.size()] ^= static_cast<uint8_t>(1 + in.byte() % 255);
            st = sm_session_load(s, bad.data(), bad.size());
            EXPECT(st == SM_ERR_FORMAT || st == SM_ERR_MISMATCH, st);
        }
        break;
    case 10:
        if (!s) break;
        st = sm_session_cancel(s);
        EXPECT(st == SM_OK, st);
        break;
    case 11:
        if (!s) break;
        st = sm_session_reset(s);
        EXPECT(st == SM_OK, st);
        break;
    case 12: // the async worker on or off
        st = S.async[m] ? sm_model_stop_async(F.models[m]) : sm_model_start_async(F.models[m]);
        EXPECT(st == SM_OK, st);
        S.async[m] = !S.async[m];
        break;
    case 13: { // a stale handle, with any function
        if (S.n_stale == 0) break;
        sm_session *x = S.stale[in.byte() % S.n_stale];
        const int32_t tok = 1;
        size_t n = 0;
        sm_session_info si;
        switch (in.byte() % 6) {
        case 0: st = sm_session_step(x, 10, &r); break;
        case 1: st = sm_session_submit_tokens(x, &tok, 1); break;
        case 2: st = sm_session_poll(x, &r); break;
        case 3: st = sm_session_save(x, nullptr, 0, &n); break;
        case 4: st = sm_session_get_info(x, &si); break;
        default: st = sm_session_destroy(x); break;
        }
        EXPECT(st == SM_ERR_INVALID_ARGUMENT, st);
        break;
    }
    case 14: // destroy the model: refused while it has sessions; else reloaded (once per
             // input, and only for code 14 itself, model 0 slot 0: a load builds the
             // tokenizer, which costs as much as the rest of a run)
        if (live_sessions(S, m) > 0) {
            st = sm_model_destroy(F.models[m]);
            EXPECT(st == SM_ERR_STATE, st);
            st = sm_runtime_destroy(F.rt);
            EXPECT(st == SM_ERR_STATE, st);
        } else if (!S.reloaded && code == 14) {
            S.reloaded = true;
            sm_model *old = F.models[m];
            st = sm_model_destroy(old);
            EXPECT(st == SM_OK, st);
            load_model(m);
            S.async[m] = false;
            st = sm_model_get_info(old, nullptr);
            EXPECT(st == SM_ERR_INVALID_ARGUMENT, st);
        }
        break;
    default: { // eval a few tokens (host-stepped models only)
        if (!s) break;
        const int32_t t[3] = {F.bos, 400, 401};
        st = sm_session_eval(s, t, 1 + in.byte() % 3, nullptr, 0);
        EXPECT(S.async[m] ? st == SM_ERR_STATE : ok_or(st, SM_ERR_CAPACITY), st);
        break;
    }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const bool ready = (init(), true);
    (void)ready;
    State S;
    Input in{data, size > 256 ? 256 : size};
    while (in.more()) op(S, in);
    // Back to the start: workers stopped, sessions destroyed, the last save checked.
    for (int m = 0; m < kModels; m++) {
        if (S.async[m]) sm_model_stop_async(F.models[m]);
        for (Slot &x : S.slots[m])
            if (x.h) {
                const sm_status st = sm_session_destroy(x.h);
                EXPECT(st == SM_OK, st);
            }
    }
    return 0;
}
