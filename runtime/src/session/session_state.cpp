// A session's state as bytes, for game save files: position, recent tokens, queued input,
// sampler and RNG, partial UTF-8 and held-back text, the KV slots in use. A checksum
// catches corruption (checked first, so a damaged file is never called "another model");
// the model fingerprint catches a state from another model.
#include "session/session.h"

#include <cmath>
#include <cstring>

namespace sm {

namespace {

constexpr uint32_t kMagic = 0x31534d53; // "SMS1"
constexpr uint32_t kVersion = 3;        // 3: queued input of any length, a submit not yet taken, a cancel request

// Not inlined, so that the fuzz build's coverage ignore list (tests/fuzz/coverage_ignore.txt)
// keeps its per-byte loop out of the instrumentation of every save and load.
__attribute__((noinline)) uint64_t fnv(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

// Writes when there is room, counts always: one pass gives the size, a second the bytes.
struct Writer {
    uint8_t *buf;
    size_t cap, n = 0;
    void put(const void *p, size_t len) {
        if (buf && n + len <= cap) memcpy(buf + n, p, len);
        n += len;
    }
    template <class T> void val(T v) { put(&v, sizeof v); }
};

struct Reader {
    const uint8_t *buf;
    size_t size, n = 0;
    bool ok = true;
    void get(void *p, size_t len) {
        if (!ok || size - n < len) {
            ok = false;
            return;
        }
        memcpy(p, buf + n, len);
        n += len;
    }
    template <class T> T val() {
        T v{};
        get(&v, sizeof v);
        return v;
    }
};

} // namespace

size_t Session::save(uint8_t *buf, size_t cap, uint64_t fingerprint) const {
    Writer w{buf, cap};
    w.val(kMagic);
    w.val(kVersion);
    w.val(fingerprint);
    w.val<int32_t>(lim.n_vocab);
    w.val<int32_t>(geo->n_slots);
    // Rows in flight go back in front of the queue (and a fed-back token back to
    // last_token): the state is the one before that forward began, which a restored
    // session re-runs bit for bit. Keys a partial forward wrote are past n_past or out of
    // every later query's window, and are rewritten before they are read.
    const bool fed_back = feed_last || (in_flight && flight_fed_last);
    const size_t skip = in_flight && flight_fed_last ? 1 : 0;
    const size_t from_flight = in_flight ? static_cast<size_t>(flight_n) - skip : 0;
    w.val<int64_t>(n_past);
    w.val<int32_t>(last_token);
    w.val<int32_t>(last_fed);
    w.val<int32_t>(generated);
    w.val<uint8_t>(fed_back);
    w.val<uint8_t>(generating);
    w.val<uint8_t>(static_cast<uint8_t>(phase));
    w.val<uint8_t>(has_logits);
    w.val<uint8_t>(submit_seq.load(std::memory_order_acquire) != seen_submit); // a submit not yet taken
    w.val<uint8_t>(cancel.load(std::memory_order_acquire));                    // a cancel not yet seen
    const sm_sampler_desc &d = sampler.desc();
    w.val(d.temperature);
    w.val(d.top_k);
    w.val(d.top_p);
    w.val(d.min_p);
    w.val(d.repeat_penalty);
    w.val(d.frequency_penalty);
    w.val(d.presence_penalty);
    w.val(d.penalty_window);
    w.val(d.seed);
    w.val<int32_t>(static_cast<int32_t>(d.n_logit_bias));
    w.put(d.logit_bias, sizeof(sm_logit_bias) * d.n_logit_bias);
    w.put(sampler.rng().s, sizeof sampler.rng().s);
    w.val<int32_t>(max_tokens);
    w.val<uint8_t>(stop_at_eos);
    // Stop strings and choices decide what comes next: they are part of the state.
    w.val<int32_t>(n_stops);
    for (int i = 0; i < n_stops; i++) {
        w.val<int32_t>(stop_len[i]);
        w.put(stops[i], static_cast<size_t>(stop_len[i]));
    }
    w.val<int32_t>(n_choices);
    for (int i = 0; i < n_choices; i++) {
        w.val<int32_t>(choice_len[i]);
        w.put(choices[i], static_cast<size_t>(choice_len[i]));
    }
    // The pending UTF-8 bytes, zero padded: the stream's buffer beyond them holds leftovers
    // of earlier text (a load or reset keeps them), and a save is a function of the state.
    unsigned char pend[4] = {0, 0, 0, 0};
    memcpy(pend, utf8.pending_bytes(), static_cast<size_t>(utf8.pending()));
    w.val<uint8_t>(static_cast<uint8_t>(utf8.pending()));
    w.put(pend, 4);
    w.val<int32_t>(n_hold);
    w.put(hold, static_cast<size_t>(n_hold));
    w.val<int32_t>(n_gen_text);
    w.put(gen_text, static_cast<size_t>(n_gen_text));
    const int64_t n_hist = n_history < lim.history_cap ? n_history : lim.history_cap;
    w.val<int64_t>(n_hist);
    w.put(history + (n_history - n_hist), sizeof(int32_t) * static_cast<size_t>(n_hist));
    // Queued input: the rows in flight, then the queue (read without taking it).
    const size_t n_queue = pending.size();
    w.val<int64_t>(static_cast<int64_t>(from_flight + n_queue));
    if (from_flight) w.put(flight_rows + skip, sizeof(int32_t) * from_flight);
    int32_t chunk[256];
    for (size_t at = 0; at < n_queue;) {
        const size_t k = pending.peek(chunk, 256, at);
        if (k == 0) break;
        w.put(chunk, sizeof(int32_t) * k);
        at += k;
    }
    if (has_logits) w.put(last_logits, sizeof(float) * static_cast<size_t>(lim.n_vocab));
    kv.each_used_span(n_past, [&](const uint8_t *p, size_t n) { w.put(p, n); });
    const uint64_t sum = buf && w.n <= cap ? fnv(buf, w.n) : 0;
    w.val(sum);
    return w.n;
}

sm_status Session::load(const uint8_t *buf, size_t size, uint64_t fingerprint, Error &err) {
    Reader r{buf, size};
    if (size < 16 + 8) return err.set(SM_ERR_FORMAT, "saved session of %zu bytes is too short", size);
    uint64_t sum;
    memcpy(&sum, buf + size - 8, 8);
    if (r.val<uint32_t>() != kMagic) return err.set(SM_ERR_FORMAT, "not a saved SmallMind session");
    const uint32_t version = r.val<uint32_t>();
    if (version != kVersion) return err.set(SM_ERR_MISMATCH, "saved session version %u, this build reads %u", version, kVersion);
    if (fnv(buf, size - 8) != sum) return err.set(SM_ERR_FORMAT, "saved session is corrupt (checksum mismatch)");
    if (r.val<uint64_t>() != fingerprint)
        return err.set(SM_ERR_MISMATCH,
                       "the saved session belongs to another model (or other n_ctx / n_sinks / max_batch / kv_type)");
    if (r.val<int32_t>() != lim.n_vocab || r.val<int32_t>() != geo->n_slots)
        return err.set(SM_ERR_MISMATCH, "saved session has another vocabulary or cache size");
    reset();
    // A save file may have been edited (the checksum stops accidents, not edits): every
    // value that indexes something is checked before the session runs on it.
    n_past = r.val<int64_t>();
    last_token = r.val<int32_t>();
    last_fed = r.val<int32_t>();
    generated = r.val<int32_t>();
    feed_last = r.val<uint8_t>() != 0;
    generating = r.val<uint8_t>() != 0;
    const uint8_t saved_phase = r.val<uint8_t>();
    has_logits = r.val<uint8_t>() != 0;
    const bool submit_untaken = r.val<uint8_t>() != 0;
    const bool cancel_requested = r.val<uint8_t>() != 0;
    auto token_ok = [&](int32_t t) { return t >= -1 && t < lim.n_vocab; };
    // Positions stay far from int64 overflow, the token count from int32 overflow.
    if (n_past < 0 || n_past > (int64_t(1) << 53) || generated < 0 || generated > (1 << 30) || !token_ok(last_token) ||
        !token_ok(last_fed) || (feed_last && last_token < 0) || saved_phase > SM_PHASE_DONE)
        return err.set(SM_ERR_FORMAT, "saved session: bad position, token or phase");
    phase = static_cast<sm_phase>(saved_phase);
    sm_sampler_desc d = sampler.desc();
    d.temperature = r.val<float>();
    d.top_k = r.val<int32_t>();
    d.top_p = r.val<float>();
    d.min_p = r.val<float>();
    d.repeat_penalty = r.val<float>();
    d.frequency_penalty = r.val<float>();
    d.presence_penalty = r.val<float>();
    d.penalty_window = r.val<int32_t>();
    d.seed = r.val<uint64_t>();
    const int32_t n_bias = r.val<int32_t>();
    if (n_bias < 0 || n_bias > Sampler::kMaxLogitBias) return err.set(SM_ERR_FORMAT, "saved session: bad logit bias count");
    sm_logit_bias bias[Sampler::kMaxLogitBias];
    r.get(bias, sizeof(sm_logit_bias) * static_cast<size_t>(n_bias));
    for (int i = 0; r.ok && i < n_bias; i++)
        if (bias[i].token < 0 || bias[i].token >= lim.n_vocab || !std::isfinite(bias[i].bias))
            return err.set(SM_ERR_FORMAT, "saved session: bad logit bias");
    d.logit_bias = bias;
    d.n_logit_bias = static_cast<size_t>(n_bias);
    if (!r.ok || !Sampler::settings_ok(d) || !sampler.configure(d))
        return err.set(SM_ERR_FORMAT, "saved session: bad sampler settings");
    r.get(sampler.rng().s, sizeof sampler.rng().s);
    max_tokens = r.val<int32_t>();
    if (max_tokens < 0) return err.set(SM_ERR_FORMAT, "saved session: bad max_tokens");
    stop_at_eos = r.val<uint8_t>() != 0;
    // Stop strings then choices, into the strings buffer as configure() lays them out.
    size_t used = 0;
    auto read_strings = [&](int max_n, int max_len, const char **dst, int *len) -> int {
        const int32_t n = r.val<int32_t>();
        if (!r.ok || n < 0 || n > max_n) return -1;
        for (int i = 0; i < n; i++) {
            const int32_t l = r.val<int32_t>();
            if (!r.ok || l < 1 || l > max_len || used + static_cast<size_t>(l) + 1 > static_cast<size_t>(lim.strings_cap))
                return -1;
            r.get(strings + used, static_cast<size_t>(l));
            strings[used + static_cast<size_t>(l)] = 0;
            dst[i] = strings + used;
            len[i] = l;
            used += static_cast<size_t>(l) + 1;
        }
        return r.ok ? n : -1;
    };
    n_stops = read_strings(SessionLimits::kMaxStops, SessionLimits::kMaxStopLen, stops, stop_len);
    if (n_stops < 0) {
        n_stops = 0;
        return err.set(SM_ERR_FORMAT, "saved session: bad stop strings");
    }
    n_choices = read_strings(SessionLimits::kMaxChoices, SessionLimits::kGenTextCap - 1, choices, choice_len);
    if (n_choices < 0) {
        n_choices = 0;
        return err.set(SM_ERR_FORMAT, "saved session: bad choices");
    }
    const int n_utf8 = r.val<uint8_t>();
    unsigned char pend[4];
    r.get(pend, 4);
    if (n_utf8 > 3) return err.set(SM_ERR_FORMAT, "saved session: bad UTF-8 state");
    utf8.restore(pend, n_utf8);
    n_hold = r.val<int32_t>();
    // Held-back text is a proper prefix of a stop string; more would overflow `hold` when
    // the next token's text is appended.
    if (n_hold < 0 || n_hold >= SessionLimits::kMaxStopLen) return err.set(SM_ERR_FORMAT, "saved session: bad held text");
    r.get(hold, static_cast<size_t>(n_hold));
    n_gen_text = r.val<int32_t>();
    if (n_gen_text < 0 || n_gen_text > SessionLimits::kGenTextCap) return err.set(SM_ERR_FORMAT, "saved session: bad text");
    r.get(gen_text, static_cast<size_t>(n_gen_text));
    const int64_t n_hist = r.val<int64_t>();
    if (n_hist < 0 || n_hist > lim.history_cap) return err.set(SM_ERR_FORMAT, "saved session: bad history");
    r.get(history, sizeof(int32_t) * static_cast<size_t>(n_hist));
    n_history = n_hist;
    for (int64_t i = 0; r.ok && i < n_hist; i++)
        if (history[i] < 0 || history[i] >= lim.n_vocab)
            return err.set(SM_ERR_FORMAT, "saved session: history token out of range");
    // Queued input straight into the queue, checked as it comes (a failure resets the session).
    const int64_t n_pending = r.val<int64_t>();
    if (n_pending < 0 || n_pending > lim.pending_cap)
        return err.set(SM_ERR_CAPACITY, "saved session has %lld queued tokens; this model's sessions queue at most %d",
                       static_cast<long long>(n_pending), lim.pending_cap);
    int32_t chunk[256];
    for (int64_t at = 0; r.ok && at < n_pending;) {
        const size_t k = static_cast<size_t>(n_pending - at < 256 ? n_pending - at : 256);
        r.get(chunk, sizeof(int32_t) * k);
        for (size_t i = 0; r.ok && i < k; i++)
            if (chunk[i] < 0 || chunk[i] >= lim.n_vocab)
                return err.set(SM_ERR_FORMAT, "saved session: queued token out of range");
        if (r.ok) pending.push(chunk, k);
        at += static_cast<int64_t>(k);
    }
    if (has_logits) {
        r.get(last_logits, sizeof(float) * static_cast<size_t>(lim.n_vocab));
        for (int i = 0; r.ok && i < lim.n_vocab; i++)
            if (!std::isfinite(last_logits[i])) return err.set(SM_ERR_FORMAT, "saved session: logits not finite");
    }
    kv.each_used_span(n_past, [&](uint8_t *p, size_t n) { r.get(p, n); });
    r.val<uint64_t>();
    if (!r.ok || r.n != size) return err.set(SM_ERR_FORMAT, "saved session is truncated or has trailing bytes");
    queued.store(static_cast<int32_t>(n_pending));
    seen_submit = submit_seq.load();
    if (submit_untaken) submit_seq.fetch_add(1, std::memory_order_release); // the worker takes it as the original would
    cancel.store(cancel_requested);
    host_submitted = n_past + n_pending;
    out_generated.store(generated);
    out_n_past.store(n_past);
    out_phase.store(phase);
    return SM_OK;
}

} // namespace sm
