#include "frame_stats.h"

#include <algorithm>

void FrameStats::add(uint64_t now_us, float frame_ms, float work_ms, float step_us, bool worked, uint32_t tokens, bool over,
                     bool preempted) {
    graph_[n_graph_ % kGraphFrames] = {frame_ms, step_us / 1000.0f};
    // Stay in int range forever: only the position modulo kGraphFrames matters once full.
    n_graph_ = n_graph_ >= 2 * kGraphFrames ? n_graph_ - kGraphFrames + 1 : n_graph_ + 1;
    window_[head_] = {now_us, frame_ms, work_ms, step_us, tokens, worked, over, preempted};
    head_ = (head_ + 1) % kWindow;
    if (count_ < kWindow) count_++;
}

FrameStats::Summary FrameStats::summarize(uint64_t now_us) {
    Summary s;
    float frame_sum = 0, work_sum = 0, busy_ms = 0, step_sum_us = 0;
    uint64_t busy_end = 0; // time of the newest busy frame
    bool any_busy = false;
    for (int k = 0; k < count_; k++) {
        const Sample &x = window_[(head_ - 1 - k + kWindow) % kWindow]; // newest first
        if (now_us - x.t_us <= 1000000) {
            s.frames++;
            frame_sum += x.frame_ms;
            work_sum += x.work_ms;
            s.frame_max_ms = std::max(s.frame_max_ms, x.frame_ms);
        }
        if (!any_busy && x.worked) {
            any_busy = true;
            busy_end = x.t_us;
        }
        if (any_busy && busy_end - x.t_us > 1000000) break;
        if (!any_busy || !x.worked) continue;
        scratch_[s.busy_frames++] = x.step_us;
        s.tokens_per_s += static_cast<float>(x.tokens); // divided below
        busy_ms += x.frame_ms;
        step_sum_us += x.step_us;
        s.over_budget += x.over;
        s.over_preempted += x.over && x.preempted;
    }
    if (s.frames) {
        s.frame_avg_ms = frame_sum / static_cast<float>(s.frames);
        s.work_avg_ms = work_sum / static_cast<float>(s.frames);
    }
    const int n = s.busy_frames;
    if (n) {
        s.busy_age_s = static_cast<float>(static_cast<double>(now_us - busy_end) / 1e6);
        s.tokens_per_step_s = step_sum_us > 0 ? s.tokens_per_s / (step_sum_us / 1e6f) : 0;
        s.tokens_per_s = busy_ms > 0 ? s.tokens_per_s / (busy_ms / 1000.0f) : 0;
        // Nearest-rank percentiles.
        auto rank = [&](double p) {
            int r = static_cast<int>(p * n + 0.999999) - 1;
            r = std::min(std::max(r, 0), n - 1);
            std::nth_element(scratch_, scratch_ + r, scratch_ + n);
            return scratch_[r];
        };
        s.step_max_us = *std::max_element(scratch_, scratch_ + n);
        s.step_p50_us = rank(0.50);
        s.step_p99_us = rank(0.99);
    }
    return s;
}
