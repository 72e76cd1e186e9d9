// Drives the shared forward pass for all of a model's sessions: gathers the rows every
// session has ready into one batch (decode tokens and prefill chunks together), runs it
// unit by unit against the caller's deadline, then hands each session its logits.
#pragma once
#include "core/clock.h"
#include "infer/forward.h"
#include "session/session.h"

namespace sm {

class Scheduler {
public:
    void init(Forward *fwd, const Parallel *par, Session **slots, int n_slots, int max_batch, int max_out_rows, Bump &arena);
    static size_t bytes_needed(int n_slots, int max_batch);

    // The clock deadlines are measured on (default: now_ns()).
    void set_clock(const Clock &c) { clock_ = c; }
    const Clock &clock() const { return clock_; }
    // Works until the deadline (clock() time; 0 = none) or until nothing is left (or,
    // when `until` is given, until that session has nothing left). Returns units done.
    int step(uint64_t deadline_ns, const Session *until = nullptr);
    bool busy() const { return fwd_->busy() || unconsumed_; }
    // Completes the forward in flight (if any) and hands out its logits, starting nothing
    // new: afterwards no session is in flight.
    void drain();

private:
    bool start_batch();
    uint64_t forward_deadline(uint64_t plan) const; // what the forward is given for plan
    void finish_batch();
    bool session_idle(const Session *s) const;

    Forward *fwd_ = nullptr;
    const Parallel *par_ = nullptr;
    Session **slots_ = nullptr;
    int n_slots_ = 0, max_batch_ = 0, max_out_rows_ = 0;
    int next_ = 0;            // round-robin start, for fairness between sessions
    bool unconsumed_ = false; // a finished forward whose logits were not handed out
    double sample_ns_ = 0;    // learned cost of finish_batch (sampling), for the budget
    static constexpr double kSlackStepNs = 20000;
    double slack_ns_ = 0;       // how early steps plan to end (see step)
    int32_t *tokens_ = nullptr; // the batch's tokens, row order
    Segment *segs_ = nullptr;
    int n_segs_ = 0;
    Clock clock_;
};

} // namespace sm
