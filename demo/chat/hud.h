// The performance overlay (F1): what an engine programmer checks before letting a
// language model into the frame: frame time and its history, how long the model's slice
// really took against its budget, throughput, which kernels run, the arena, the KV
// position and the session's phase.
#pragma once
#include "frame_stats.h"
#include "smallmind/smallmind.h"
#include "teacher.h"
#include "text_render.h"

struct HudInfo {
    const sm_model_info *model = nullptr;
    const char *isa = "";
    int threads = 1;
    sm_memory_stats memory{};
    sm_session_info session{};
    uint32_t budget_us = 0;
    const char *mode = "";
    const char *renderer = "";
    bool vsync = false, paced = false;
    int reply_tokens = 0;
    uint64_t frame_allocs = 0; // operator new calls during the last frame
    uint64_t loop_allocs = 0;  // since frame 10 (the first frames warm up the GPU driver)
    const TeachStatus *teach = nullptr;
};

class Hud {
public:
    static constexpr int kWidth = 318; // panel width in pixels

    void draw(TextRenderer &t, float x, float y, float h, const FrameStats::Summary &s, const FrameStats &graph,
              const HudInfo &info);
};
