// Per-frame measurements for the HUD: the last 120 frames for the graph, and a one-second
// window for step-time percentiles and tokens/s. Fixed-size rings; computing the
// percentiles copies into a fixed scratch array and uses nth_element, so no allocation.
#pragma once
#include <cstddef>
#include <cstdint>

class FrameStats {
public:
    static constexpr int kGraphFrames = 120;
    static constexpr int kWindow = 1024; // samples kept for the one-second window (>= 1 s at 1000 fps)

    // One frame: its wall time (pacing included) and working time (until present), the
    // time sm_session_step took, whether the model had work, the tokens it produced,
    // whether the step overran its budget and whether the OS preempted it meanwhile.
    // now_us: a monotonic clock.
    void add(uint64_t now_us, float frame_ms, float work_ms, float step_us, bool worked, uint32_t tokens, bool over,
             bool preempted);

    struct Summary {
        // Frames of the last second.
        float frame_avg_ms = 0, frame_max_ms = 0, work_avg_ms = 0;
        int frames = 0;
        // The model's last busy second: the second ending at the newest frame in which it
        // worked (that is the last second while it writes; after a reply, the HUD keeps
        // showing how the reply went instead of going blank).
        float step_p50_us = 0, step_p99_us = 0, step_max_us = 0;
        int busy_frames = 0;         // frames in that second in which the model worked
        float tokens_per_s = 0;      // tokens / wall time of those frames (what the player sees)
        float tokens_per_step_s = 0; // tokens / time inside sm_session_step (the model's speed)
        float busy_age_s = -1;       // how long ago that second ended; < 0: never busy
        int over_budget = 0;         // busy frames whose step took > 1.25 x budget
        int over_preempted = 0;      // ... of which the OS preempted the step
    };
    Summary summarize(uint64_t now_us);

    // Graph data, oldest first: i in [0, graph_count()).
    int graph_count() const { return n_graph_ < kGraphFrames ? n_graph_ : kGraphFrames; }
    float graph_frame_ms(int i) const { return graph_[slot(i)].frame_ms; }
    float graph_step_ms(int i) const { return graph_[slot(i)].step_ms; }

private:
    struct GraphSample {
        float frame_ms, step_ms;
    };
    struct Sample {
        uint64_t t_us;
        float frame_ms, work_ms, step_us;
        uint32_t tokens;
        bool worked, over, preempted;
    };
    int slot(int i) const {
        const int n = graph_count();
        return (n_graph_ - n + i) % kGraphFrames;
    }

    GraphSample graph_[kGraphFrames] = {};
    int n_graph_ = 0; // total pushed (slot = index % kGraphFrames)
    Sample window_[kWindow] = {};
    int head_ = 0, count_ = 0;
    float scratch_[kWindow] = {};
};
