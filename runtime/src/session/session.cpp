#include "session/session.h"

#include <cstring>

namespace sm {

namespace {
constexpr int kTokenBytesCap = SessionLimits::kTokenBytesCap;
constexpr int kMaxStopLen = SessionLimits::kMaxStopLen;
} // namespace

size_t Session::bytes_needed(const SessionLimits &lim) {
    Session s;
    s.lim = lim;
    Bump m = Bump::measuring();
    s.layout(m);
    return m.used;
}

void Session::layout(Bump &a) {
    pending.init(a.take_n<int32_t>(static_cast<size_t>(lim.pending_cap)), static_cast<size_t>(lim.pending_cap));
    history = a.take_n<int32_t>(2 * static_cast<size_t>(lim.history_cap));
    last_logits = a.take_n<float>(static_cast<size_t>(lim.n_vocab));
    hold = a.take_n<char>(SessionLimits::kHoldCap);
    gen_text = a.take_n<char>(SessionLimits::kGenTextCap);
    strings = a.take_n<char>(static_cast<size_t>(lim.strings_cap));
    out_tokens.init(a.take_n<int32_t>(static_cast<size_t>(lim.out_tokens_cap)), static_cast<size_t>(lim.out_tokens_cap));
    out_text.init(a.take_n<char>(static_cast<size_t>(lim.out_text_cap)), static_cast<size_t>(lim.out_text_cap));
    res_tokens = a.take_n<int32_t>(static_cast<size_t>(lim.out_tokens_cap));
    res_text = a.take_n<char>(static_cast<size_t>(lim.out_text_cap) + 8);
    // The sampler's own buffers come last.
    if (a.is_measuring()) a.take(Sampler::bytes_needed(lim.n_vocab));
}

sm_status Session::configure(const sm_session_desc &d, Error &err) {
    if (d.n_stop_strings > static_cast<size_t>(SessionLimits::kMaxStops))
        return err.set(SM_ERR_CAPACITY, "%zu stop strings; at most %d", d.n_stop_strings, SessionLimits::kMaxStops);
    if (d.n_choices > static_cast<size_t>(SessionLimits::kMaxChoices))
        return err.set(SM_ERR_CAPACITY, "%zu choices; at most %d", d.n_choices, SessionLimits::kMaxChoices);
    if (d.sampler.n_logit_bias > static_cast<size_t>(Sampler::kMaxLogitBias))
        return err.set(SM_ERR_CAPACITY, "%zu logit biases; at most %d", d.sampler.n_logit_bias, Sampler::kMaxLogitBias);
    if ((d.n_stop_strings && !d.stop_strings) || (d.n_choices && !d.choices) || (d.sampler.n_logit_bias && !d.sampler.logit_bias))
        return err.set(SM_ERR_INVALID_ARGUMENT, "a count is set but its array is NULL");
    if (!Sampler::settings_ok(d.sampler) || d.max_tokens < 0)
        return err.set(SM_ERR_INVALID_ARGUMENT,
                       "sampler settings out of range (finite temperature >= 0, 0 <= top_p, min_p <= 1, top_k >= 0, "
                       "finite repeat_penalty > 0, finite penalties, penalty_window >= 0, max_tokens >= 0)");
    for (size_t i = 0; i < d.sampler.n_logit_bias; i++)
        if (d.sampler.logit_bias[i].token < 0 || d.sampler.logit_bias[i].token >= lim.n_vocab)
            return err.set(SM_ERR_INVALID_ARGUMENT, "logit bias for token %d outside the vocabulary",
                           d.sampler.logit_bias[i].token);
    if (d.stop_at_eos != 0 && d.stop_at_eos != 1)
        return err.set(SM_ERR_INVALID_ARGUMENT, "stop_at_eos is %d, not 0 or 1", d.stop_at_eos);
    // NULL or empty strings are wrong arguments; strings beyond the planned room are capacity.
    for (size_t i = 0; i < d.n_stop_strings; i++)
        if (!d.stop_strings[i] || !d.stop_strings[i][0])
            return err.set(SM_ERR_INVALID_ARGUMENT, "stop string %zu is NULL or empty", i);
    for (size_t i = 0; i < d.n_choices; i++)
        if (!d.choices[i] || !d.choices[i][0]) return err.set(SM_ERR_INVALID_ARGUMENT, "choice %zu is NULL or empty", i);
    size_t used = 0;
    auto copy = [&](const char *src, size_t max_len, const char **dst, int *len) -> bool {
        const size_t n = strlen(src);
        if (n > max_len || used + n + 1 > static_cast<size_t>(lim.strings_cap)) return false;
        memcpy(strings + used, src, n + 1);
        *dst = strings + used;
        *len = static_cast<int>(n);
        used += n + 1;
        return true;
    };
    for (size_t i = 0; i < d.n_stop_strings; i++)
        if (!copy(d.stop_strings[i], static_cast<size_t>(kMaxStopLen), &stops[i], &stop_len[i]))
            return err.set(SM_ERR_CAPACITY, "stop string %zu is longer than %d bytes, or the strings exceed %d bytes", i,
                           kMaxStopLen, lim.strings_cap);
    for (size_t i = 0; i < d.n_choices; i++)
        if (!copy(d.choices[i], static_cast<size_t>(SessionLimits::kGenTextCap - 1), &choices[i], &choice_len[i]))
            return err.set(SM_ERR_CAPACITY, "choice %zu is longer than %d bytes, or the strings exceed %d bytes", i,
                           SessionLimits::kGenTextCap - 1, lim.strings_cap);
    n_stops = static_cast<int>(d.n_stop_strings);
    n_choices = static_cast<int>(d.n_choices);
    max_tokens = d.max_tokens;
    stop_at_eos = d.stop_at_eos != 0;
    sampler.configure(d.sampler);
    return SM_OK;
}

void Session::reset() {
    pending.clear();
    out_tokens.clear();
    out_text.clear();
    submit_seq.store(0);
    seen_submit = 0;
    cancel.store(false);
    queued.store(0);
    host_submitted = 0;
    out_phase.store(SM_PHASE_IDLE);
    out_generated.store(0);
    out_finish.store(SM_FINISH_NONE);
    out_progress.store(0.0f);
    out_n_past.store(0);
    host_finish_seen = finish_seq.load();
    n_past = 0;
    last_token = last_fed = -1;
    feed_last = generating = in_flight = has_logits = eval = false;
    flight_rows = nullptr;
    flight_n = 0;
    flight_fed_last = false;
    generated = 0;
    phase = SM_PHASE_IDLE;
    n_history = 0;
    utf8.reset();
    n_hold = n_gen_text = 0;
    eval_out = nullptr;
    eval_rows = eval_rows_cap = 0;
    sampler.reseed(sampler.desc().seed);
}

// ---------------------------------------------------------------- host side

sm_status Session::submit(const int32_t *tokens, size_t n, Error &err) {
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= lim.n_vocab)
            return err.set(SM_ERR_INVALID_ARGUMENT, "token %d at index %zu is outside the vocabulary of %d", tokens[i], i,
                           lim.n_vocab);
    const size_t room = static_cast<size_t>(lim.pending_cap - queued.load(std::memory_order_acquire));
    if (n > room || !pending.push(tokens, n))
        return err.set(SM_ERR_CAPACITY,
                       "%zu tokens do not fit the %zu free places of the session's input queue (capacity %d tokens: "
                       "sm_model_desc.max_text_bytes + 256)",
                       n, room, lim.pending_cap);
    queued.fetch_add(static_cast<int32_t>(n), std::memory_order_acq_rel);
    host_submitted += static_cast<int64_t>(n);
    submit_seq.fetch_add(1, std::memory_order_release);
    return SM_OK;
}

void Session::poll(sm_step_result *out) {
    // Finish first: everything generated before it is already in the rings.
    const uint32_t seq = finish_seq.load(std::memory_order_acquire);
    out->finish = SM_FINISH_NONE;
    if (seq != host_finish_seen) {
        out->finish = static_cast<sm_finish_reason>(out_finish.load(std::memory_order_acquire));
        host_finish_seen = seq;
    }
    out->n_tokens = out_tokens.pop(res_tokens, static_cast<size_t>(lim.out_tokens_cap));
    out->tokens = res_tokens;
    out->text_len = out_text.pop(res_text, static_cast<size_t>(lim.out_text_cap));
    res_text[out->text_len] = 0;
    out->text = res_text;
    out->phase = host_phase();
    out->progress = out_progress.load(std::memory_order_relaxed);
}

sm_phase Session::host_phase() const {
    const auto p = static_cast<sm_phase>(out_phase.load(std::memory_order_acquire));
    if ((p == SM_PHASE_IDLE || p == SM_PHASE_DONE) && queued.load(std::memory_order_acquire) > 0) return SM_PHASE_PREFILL;
    return p;
}

// ---------------------------------------------------------------- worker side

bool Session::has_work() const {
    if (in_flight) return false;
    const bool new_submit = submit_seq.load(std::memory_order_acquire) != seen_submit;
    const bool will_generate = generating || new_submit;
    // One more token may emit its text plus everything held back: the host must poll first.
    if (will_generate && (out_tokens.free_space() < 2 || out_text.free_space() < static_cast<size_t>(SessionLimits::kHoldCap)))
        return false;
    return pending.size() > 0 || (generating && feed_last) || (new_submit && feed_last);
}

void Session::take_submit() {
    const uint32_t seq = submit_seq.load(std::memory_order_acquire);
    if (seq == seen_submit) return;
    seen_submit = seq;
    generating = !eval;
    generated = 0;
    out_generated.store(0, std::memory_order_relaxed);
    n_gen_text = 0;
    cancel.store(false);
}

int Session::take_rows(int32_t *tokens, int max_rows, bool *want_logits) {
    take_submit();
    if (cancel.exchange(false)) {
        int32_t drop[64];
        while (size_t k = pending.pop(drop, 64)) queued.fetch_sub(static_cast<int32_t>(k), std::memory_order_acq_rel);
        if (generating) finish(SM_FINISH_CANCELLED);
        return 0;
    }
    int n = 0;
    const bool fed_last = feed_last && max_rows > 0;
    if (fed_last) {
        tokens[n++] = last_token;
        feed_last = false;
    }
    n += static_cast<int>(pending.pop(tokens + n, static_cast<size_t>(max_rows - n)));
    *want_logits = pending.size() == 0 && (generating || eval);
    if (n > 0) {
        in_flight = true;
        flight_rows = tokens;
        flight_n = n;
        flight_fed_last = fed_last;
        phase = pending.size() > 0 || !generating ? SM_PHASE_PREFILL : (generated > 0 ? SM_PHASE_DECODE : SM_PHASE_PREFILL);
        out_phase.store(phase, std::memory_order_release);
    }
    return n;
}

void Session::record(int32_t token) {
    const int64_t cap = lim.history_cap;
    if (n_history == 2 * cap) { // keep the last cap tokens contiguous
        memmove(history, history + cap, sizeof(int32_t) * static_cast<size_t>(cap));
        n_history = cap;
    }
    history[n_history++] = token;
}

void Session::consume(const int32_t *tokens, int n_rows, const float *logits, int n_logit_rows) {
    for (int i = 0; i < n_rows; i++) record(tokens[i]);
    if (n_rows > 0) last_fed = tokens[n_rows - 1];
    n_past += n_rows;
    out_n_past.store(n_past, std::memory_order_relaxed);
    queued.fetch_sub(n_rows - (flight_fed_last ? 1 : 0), std::memory_order_acq_rel);
    in_flight = false;
    flight_rows = nullptr;
    flight_n = 0;
    flight_fed_last = false;
    if (eval && eval_all) {
        for (int i = 0; i < n_logit_rows && eval_out && eval_rows < eval_rows_cap; i++, eval_rows++)
            memcpy(eval_out + eval_rows * static_cast<size_t>(lim.n_vocab), logits + static_cast<size_t>(i) * lim.n_vocab,
                   sizeof(float) * static_cast<size_t>(lim.n_vocab));
    }
    if (logits && n_logit_rows > 0) {
        memcpy(last_logits, logits + static_cast<size_t>(n_logit_rows - 1) * lim.n_vocab,
               sizeof(float) * static_cast<size_t>(lim.n_vocab));
        has_logits = true;
    }
    take_submit();
    if (generating && logits && pending.size() == 0) {
        if (cancel.exchange(false)) {
            finish(SM_FINISH_CANCELLED);
        } else {
            const int64_t w = n_history < lim.history_cap ? n_history : lim.history_cap;
            TokenConstraint c{allows_cb, this};
            if (n_choices) note_choices();
            const int32_t t = sampler.sample(last_logits, history + (n_history - w), static_cast<int>(w),
                                             n_choices ? &c : nullptr);
            if (t < 0) {
                finish(SM_FINISH_CHOICE);
            } else if (stop_at_eos && tok && !n_choices && (tok->is_end_of_generation(t) || t == tok->bos())) {
                // BOS ends generation too: llama2.c-style models start the next document
                // with it instead of writing EOS.
                finish(SM_FINISH_EOS);
            } else {
                last_token = t;
                feed_last = true;
                generated++;
                out_generated.store(generated, std::memory_order_relaxed);
                emit_token(t);
                if (generating) {
                    if (n_choices && choice_complete() >= 0) finish(SM_FINISH_CHOICE);
                    else if (max_tokens > 0 && generated >= max_tokens) finish(SM_FINISH_MAX_TOKENS);
                }
            }
        }
    }
    if (pending.size() > 0) phase = SM_PHASE_PREFILL;
    else if (generating) phase = SM_PHASE_DECODE;
    else if (phase != SM_PHASE_IDLE) phase = SM_PHASE_DONE;
    out_phase.store(phase, std::memory_order_release);
}

void Session::emit_token(int32_t t) {
    out_tokens.push(&t, 1);
    if (!tok) return;
    char raw[kTokenBytesCap];
    size_t n = tok->token_bytes(t, raw, sizeof raw);
    if (n > sizeof raw) n = sizeof raw;
    const char *bytes = raw;
    // SentencePiece adds a space before the first word; after the BOS that starts the
    // sequence it is not text. After a BOS generated mid-text it is (as sm_detokenize says).
    if (tok->strips_leading_space() && last_fed == tok->bos() && n_past == 1 && n > 0 && bytes[0] == ' ') {
        bytes++;
        n--;
    }
    if (n_choices) {
        size_t skip = 0;
        if (n_gen_text == 0)
            while (skip < n && (bytes[skip] == ' ' || bytes[skip] == '\n' || bytes[skip] == '\t')) skip++;
        size_t room = static_cast<size_t>(SessionLimits::kGenTextCap - n_gen_text);
        size_t m = n - skip < room ? n - skip : room;
        memcpy(gen_text + n_gen_text, bytes + skip, m);
        n_gen_text += static_cast<int>(m);
    }
    char chars[SessionLimits::kCharsCap];
    const size_t m = utf8.push(bytes, n, chars, sizeof chars);
    if (!n_stops) {
        out_text.push(chars, m);
        return;
    }
    // Stop strings: hold back any tail that could still become one.
    memcpy(hold + n_hold, chars, m);
    n_hold += static_cast<int>(m);
    for (int i = 0; i < n_stops; i++) {
        const int L = stop_len[i];
        for (int at = 0; at + L <= n_hold; at++)
            if (memcmp(hold + at, stops[i], static_cast<size_t>(L)) == 0) {
                out_text.push(hold, static_cast<size_t>(at));
                n_hold = 0;
                finish(SM_FINISH_STOP_STRING);
                return;
            }
    }
    int keep = 0;
    for (int i = 0; i < n_stops; i++)
        for (int L = stop_len[i] - 1; L > keep; L--)
            if (L <= n_hold && memcmp(hold + n_hold - L, stops[i], static_cast<size_t>(L)) == 0) {
                keep = L;
                break;
            }
    out_text.push(hold, static_cast<size_t>(n_hold - keep));
    memmove(hold, hold + n_hold - keep, static_cast<size_t>(keep));
    n_hold = keep;
}

void Session::finish(sm_finish_reason why) {
    generating = false;
    if (n_hold && why != SM_FINISH_STOP_STRING) out_text.push(hold, static_cast<size_t>(n_hold));
    n_hold = 0;
    phase = SM_PHASE_DONE;
    out_phase.store(phase, std::memory_order_release);
    out_finish.store(why, std::memory_order_release);
    finish_seq.fetch_add(1, std::memory_order_release);
}

bool Session::allows_cb(const void *ctx, int32_t token) { return static_cast<const Session *>(ctx)->choice_allows(token); }

void Session::note_choices() {
    static_assert(SessionLimits::kMaxChoices <= 32, "choice_live has a bit per choice");
    choice_live = 0;
    for (uint64_t &w : choice_next) w = 0;
    for (int i = 0; i < n_choices; i++) {
        if (choice_len[i] <= n_gen_text || memcmp(choices[i], gen_text, static_cast<size_t>(n_gen_text)) != 0) continue;
        choice_live |= uint32_t(1) << i;
        const uint8_t c = static_cast<uint8_t>(choices[i][n_gen_text]);
        choice_next[c >> 6] |= uint64_t(1) << (c & 63);
    }
}

bool Session::choice_allows(int32_t t) const {
    if (!tok) return false;
    // The first byte (past the blanks skipped below) must continue a live choice: most
    // tokens fail on that table lookup, before anything else is asked of them.
    const int first = tok->first_byte(t, n_gen_text == 0);
    if (first < 0 || !((choice_next[first >> 6] >> (first & 63)) & 1)) return false;
    if (tok->is_control(t) || tok->is_end_of_generation(t)) return false;
    char raw[kTokenBytesCap];
    size_t n = tok->token_bytes(t, raw, sizeof raw);
    if (n == 0 || n > sizeof raw) return false;
    const char *b = raw;
    if (n_gen_text == 0) { // the first token may bring leading spaces, but also text
        while (n > 0 && (*b == ' ' || *b == '\n' || *b == '\t')) b++, n--;
        if (n == 0) return false;
    }
    const size_t total = static_cast<size_t>(n_gen_text) + n;
    for (int i = 0; i < n_choices; i++) {
        if (!((choice_live >> i) & 1) || total > static_cast<size_t>(choice_len[i])) continue;
        if (memcmp(choices[i] + n_gen_text, b, n) == 0) return true;
    }
    return false;
}

int Session::choice_complete() const {
    for (int i = 0; i < n_choices; i++)
        if (choice_len[i] == n_gen_text && memcmp(choices[i], gen_text, static_cast<size_t>(n_gen_text)) == 0) return i;
    return -1;
}

} // namespace sm
