// A session: one conversation / NPC. It owns a KV-cache slot and its sampler, takes
// tokens in, and hands tokens and whole-character text out.
//
// Two sides. The host side (submit, poll, cancel) touches only the input ring, the
// output rings and atomics; everything else is the worker side's, run by the scheduler
// (on the host's thread in sm_model_step, or on the async worker). So polling never
// blocks and never races the worker.
#pragma once
#include "core/bump.h"
#include "infer/kv_cache.h"
#include "lora/adapter.h"
#include "session/sampler.h"
#include "session/spsc_ring.h"
#include "text/tokenizer.h"
#include "smallmind/smallmind.h"

#include <atomic>
#include <cstdint>

namespace sm {

// Per-slot capacities, fixed when the model is loaded.
struct SessionLimits {
    int n_vocab = 0;
    int pending_cap = 0; // submitted tokens not yet through the model (queued or in flight)
    int history_cap = 0; // recent tokens kept (penalties, save)
    int out_tokens_cap = 1024;
    int out_text_cap = 8192;
    int strings_cap = 4096; // stop strings + choices, copied
    static constexpr int kMaxStops = 8, kMaxChoices = 32, kGenTextCap = 1024;
    static constexpr int kTokenBytesCap = 256;                // a token's text, at most
    static constexpr int kCharsCap = 3 * kTokenBytesCap + 16; // ... as UTF-8 (U+FFFD for bad bytes)
    static constexpr int kMaxStopLen = 192;
    static constexpr int kHoldCap = kMaxStopLen + kCharsCap; // text held back for stop strings
};

struct Session {
    // ---- set at creation
    const KvGeometry *geo = nullptr;
    KvCache kv;
    const text::Tokenizer *tok = nullptr;
    SessionLimits lim;
    int slot = -1;

    // ---- host -> worker
    SpscRing<int32_t> pending;
    std::atomic<uint32_t> submit_seq{0}; // bumped after each submit's tokens are queued
    std::atomic<bool> cancel{false};
    // Submitted tokens not yet through the model: queued, or taken into the forward in
    // flight. Submit enforces lim.pending_cap on it, so a save (which puts the rows in
    // flight back in front of the queue) always fits the queue of the session it loads into.
    std::atomic<int32_t> queued{0};
    int64_t host_submitted = 0; // tokens ever submitted since reset (host side)

    // ---- worker -> host
    SpscRing<int32_t> out_tokens;
    SpscRing<char> out_text;
    std::atomic<int> out_phase{SM_PHASE_IDLE};
    std::atomic<uint32_t> finish_seq{0};
    std::atomic<int> out_finish{SM_FINISH_NONE};
    std::atomic<float> out_progress{0.0f};
    std::atomic<int64_t> out_n_past{0};
    std::atomic<int32_t> out_generated{0};
    uint32_t host_finish_seen = 0;

    // ---- host, between steps: adapters on this session's rows (api/adapter_api.cpp)
    lora::Use lora[lora::kMaxUses];
    int n_lora = 0;

    // ---- worker side
    uint32_t seen_submit = 0;
    int64_t n_past = 0;      // positions in the KV cache
    int32_t last_token = -1; // sampled, not yet fed back
    bool feed_last = false;
    int32_t last_fed = -1;   // the last token that went through the model
    int32_t generated = 0;   // since the last submit
    bool generating = false; // sample after the pending tokens are consumed
    bool in_flight = false;  // rows of this session are in the running forward
    // The rows in flight (the scheduler's batch buffer, valid until consume): a save puts
    // them back in front of the queue, so it never has to finish the forward.
    const int32_t *flight_rows = nullptr;
    int flight_n = 0;
    bool flight_fed_last = false; // flight_rows[0] is last_token, fed back
    sm_phase phase = SM_PHASE_IDLE;
    int32_t *history = nullptr; // ring of the last history_cap tokens
    int64_t n_history = 0;
    float *last_logits = nullptr;
    bool has_logits = false;
    text::Utf8Stream utf8;
    char *hold = nullptr; // text held back while it could start a stop string
    int n_hold = 0;
    char *gen_text = nullptr; // generated text so far (choice matching)
    int n_gen_text = 0;
    // Set before each constrained sample (note_choices()): the choices gen_text is still a
    // proper prefix of (bit i), and the bytes they go on with. choice_allows() rejects a
    // token whose first byte is none of those without decoding it.
    uint32_t choice_live = 0;
    uint64_t choice_next[4] = {};
    Sampler sampler;

    // eval (teacher forcing): logits rows are copied out here
    bool eval = false;
    bool eval_all = false; // a logits row per token (the model planned all_logits)
    float *eval_out = nullptr;
    size_t eval_rows_cap = 0, eval_rows = 0;

    // settings
    int32_t max_tokens = 0;
    bool stop_at_eos = true;
    char *strings = nullptr;
    const char *stops[SessionLimits::kMaxStops] = {};
    int stop_len[SessionLimits::kMaxStops] = {};
    int n_stops = 0;
    const char *choices[SessionLimits::kMaxChoices] = {};
    int choice_len[SessionLimits::kMaxChoices] = {};
    int n_choices = 0;

    // poll results (valid until the next poll)
    int32_t *res_tokens = nullptr;
    char *res_text = nullptr;

    // ---- sizes and set-up
    static size_t bytes_needed(const SessionLimits &lim); // everything but the KV cache
    void layout(Bump &a);
    // Copies settings (strings, biases); SM_ERR_CAPACITY if they exceed the limits.
    sm_status configure(const sm_session_desc &d, Error &err);
    void reset();

    // ---- host side
    sm_status submit(const int32_t *tokens, size_t n, Error &err);
    void poll(sm_step_result *out);
    // The phase as the host sees it: submitted tokens waiting make an idle or finished
    // session PREFILL before the worker has taken them.
    sm_phase host_phase() const;
    // Saved state (session_state.cpp): a snapshot that changes nothing, taken while no
    // worker runs. A forward in flight is not finished: its rows are saved as queued input.
    // save() returns the bytes needed; writes if they fit.
    size_t save(uint8_t *buf, size_t cap, uint64_t model_fingerprint) const;
    // On failure the session is left part-loaded: the caller resets it (sm_session_load does).
    sm_status load(const uint8_t *buf, size_t size, uint64_t model_fingerprint, Error &err);

    // ---- worker side
    bool has_work() const;
    // The tokens this session feeds into the next forward (at most max_rows); whether it
    // wants logits of its last row. Returns the row count (0: nothing to do now).
    int take_rows(int32_t *tokens, int max_rows, bool *want_logits);
    // After the forward: the rows went in; logits (n_rows or 1 rows, or null) came out.
    void consume(const int32_t *tokens, int n_rows, const float *logits, int n_logit_rows);

private:
    // A submit the worker has not seen starts a new generation (generated count, choice
    // text and cancel cleared). Taken before rows are taken, and again before sampling:
    // a submit that lands while a forward is in flight then counts from that forward's
    // end, as it would had the forward been restored from a save (rows back in the queue).
    void take_submit();
    void record(int32_t token);
    void emit_token(int32_t token);
    void finish(sm_finish_reason why);
    void note_choices();
    bool choice_allows(int32_t token) const;
    int choice_complete() const;
    static bool allows_cb(const void *ctx, int32_t token);
};

} // namespace sm
