#include "session/scheduler.h"
#include "core/clock.h"

namespace sm {

size_t Scheduler::bytes_needed(int n_slots, int max_batch) {
    Bump m = Bump::measuring();
    m.take_n<int32_t>(static_cast<size_t>(max_batch));
    m.take_n<Segment>(static_cast<size_t>(n_slots));
    return m.used;
}

void Scheduler::init(Forward *fwd, const Parallel *par, Session **slots, int n_slots, int max_batch, int max_out_rows,
                     Bump &arena) {
    fwd_ = fwd;
    par_ = par;
    slots_ = slots;
    n_slots_ = n_slots;
    max_batch_ = max_batch;
    max_out_rows_ = max_out_rows;
    tokens_ = arena.take_n<int32_t>(static_cast<size_t>(max_batch));
    segs_ = arena.take_n<Segment>(static_cast<size_t>(n_slots));
}

bool Scheduler::start_batch() {
    int rows = 0, outs = 0;
    n_segs_ = 0;
    for (int i = 0; i < n_slots_ && rows < max_batch_; i++) {
        Session *s = slots_[(next_ + i) % n_slots_];
        if (!s || !s->has_work()) continue;
        bool want_logits = false;
        // An eval session may want a logits row per token: it takes only what fits.
        const bool all = s->eval && s->eval_all;
        int room = max_batch_ - rows;
        if (all && room > max_out_rows_ - outs) room = max_out_rows_ - outs;
        if (room <= 0 || (!all && outs >= max_out_rows_)) break;
        const int n = s->take_rows(tokens_ + rows, room, &want_logits);
        if (n == 0) continue;
        Segment &g = segs_[n_segs_++];
        g = Segment{};
        g.kv = &s->kv;
        g.pos0 = s->n_past;
        g.n_rows = n;
        g.all_logits = all;
        g.want_logits = want_logits;
        g.owner = s;
        for (int i = 0; i < s->n_lora; i++) g.lora[i] = s->lora[i];
        g.n_lora = s->n_lora;
        rows += n;
        outs += g.all_logits ? n : (g.want_logits ? 1 : 0);
    }
    next_ = (next_ + 1) % (n_slots_ > 0 ? n_slots_ : 1);
    if (n_segs_ == 0) return false;
    fwd_->begin(segs_, n_segs_, tokens_);
    return true;
}

namespace {
struct ConsumeTask {
    const Forward *fwd;
    const int32_t *tokens;
};
// One segment's session takes its rows' results and samples; sessions are independent,
// so segments run in parallel with identical results.
void consume_task(void *ctx, int i) {
    const ConsumeTask &c = *static_cast<const ConsumeTask *>(ctx);
    const Segment &g = c.fwd->segment(i);
    Session *s = static_cast<Session *>(g.owner);
    s->consume(c.tokens + g.row0, g.n_rows, g.n_out ? c.fwd->logits(g.out_row0) : nullptr, g.n_out);
    s->out_progress.store(0.0f, std::memory_order_relaxed);
}
} // namespace

void Scheduler::finish_batch() {
    ConsumeTask t{fwd_, tokens_};
    const int n = fwd_->n_segments();
    if (par_ && n > 1) par_->run(consume_task, &t, n);
    else
        for (int i = 0; i < n; i++) consume_task(&t, i);
    unconsumed_ = false;
}

void Scheduler::drain() {
    const Parallel::Hold hold(par_);
    if (fwd_->busy()) {
        fwd_->run(0);
        unconsumed_ = true;
    }
    if (unconsumed_) finish_batch();
}

// The forward slices its passes on now_ns(). With another clock injected (tests), each
// pass runs whole and the step checks its budget between passes on that clock, so what a
// step does depends on the injected clock alone, not on this machine's speed.
uint64_t Scheduler::forward_deadline(uint64_t plan) const { return clock_.now ? 0 : plan; }

bool Scheduler::session_idle(const Session *s) const { return !s->in_flight && !s->has_work(); }

int Scheduler::step(uint64_t deadline_ns, const Session *until) {
    const Parallel::Hold hold(par_);
    // Plan to end slack_ns_ early: the 99th percentile of how far past their plan earlier
    // steps ended. A step's last unit runs longer than its learned cost when the machine
    // slows down (another process, the hypervisor); in a calm minute the slack stays near
    // zero. Never more than half the budget.
    uint64_t plan = deadline_ns;
    if (deadline_ns) {
        const uint64_t start = clock_.ns(), budget = deadline_ns > start ? deadline_ns - start : 0;
        const uint64_t slack = static_cast<uint64_t>(slack_ns_) < budget / 2 ? static_cast<uint64_t>(slack_ns_) : budget / 2;
        plan = deadline_ns - slack;
    }
    bool out_of_time = false;
    int units = 0;
    for (;;) {
        if (fwd_->busy()) {
            units += fwd_->run(forward_deadline(plan));
            const float p = fwd_->progress();
            for (int i = 0; i < fwd_->n_segments(); i++)
                static_cast<Session *>(fwd_->segment(i).owner)->out_progress.store(p, std::memory_order_relaxed);
            if (fwd_->busy()) { // out of time
                out_of_time = true;
                break;
            }
            unconsumed_ = true;
        }
        if (unconsumed_) {
            // Sampling is one unit (a softmax and top-k over the vocabulary, per
            // session): start it only if its learned cost fits what is left.
            const uint64_t t0 = clock_.ns();
            if (plan && units > 0 && static_cast<double>(t0) + sample_ns_ >= static_cast<double>(plan)) {
                out_of_time = true;
                break;
            }
            finish_batch();
            const double dt = static_cast<double>(clock_.ns() - t0);
            sample_ns_ = sample_ns_ == 0 ? dt : sample_ns_ * 0.8 + dt * 0.2;
            units++;
        }
        if (until && session_idle(until)) break;
        if (plan && units > 0 && clock_.ns() >= plan) {
            out_of_time = true;
            break;
        }
        if (!start_batch()) break;
    }
    if (out_of_time) {
        // A stochastic estimate of the 99th percentile: up 99 steps for every step down,
        // so it settles where 1% of steps end later than it says. One slow step moves it
        // by kSlackStepNs at most, so a rare preemption does not cost every later frame.
        const double late = static_cast<double>(clock_.ns()) - static_cast<double>(plan);
        slack_ns_ += late > slack_ns_ ? 0.99 * kSlackStepNs : -0.01 * kSlackStepNs;
        if (slack_ns_ < 0) slack_ns_ = 0;
    }
    return units;
}

} // namespace sm
