#include "hud.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace {

const SDL_Color kKey{140, 150, 170, 255};
const SDL_Color kValue{230, 232, 238, 255};
const SDL_Color kGood{120, 220, 140, 255};
const SDL_Color kWarn{255, 190, 90, 255};
const SDL_Color kBad{255, 110, 100, 255};
const SDL_Color kStep{255, 150, 60, 255};
const SDL_Color kFrame{80, 120, 190, 255};

const char *phase_name(sm_phase p) {
    switch (p) {
    case SM_PHASE_IDLE: return "idle";
    case SM_PHASE_PREFILL: return "prefill";
    case SM_PHASE_DECODE: return "decode";
    case SM_PHASE_DONE: return "done";
    }
    return "?";
}

// "260K", "15.2M", "1.1B"
void format_count(char *buf, size_t cap, int64_t n) {
    if (n >= 1000000000) snprintf(buf, cap, "%.1fB", static_cast<double>(n) / 1e9);
    else if (n >= 1000000) snprintf(buf, cap, "%.1fM", static_cast<double>(n) / 1e6);
    else if (n >= 1000) snprintf(buf, cap, "%.0fK", static_cast<double>(n) / 1e3);
    else snprintf(buf, cap, "%lld", static_cast<long long>(n));
}

double mib(size_t b) { return static_cast<double>(b) / (1024.0 * 1024.0); }

// One "key   value" row; returns the next row's y.
struct Rows {
    TextRenderer &t;
    float x, y, lh, value_x;
    void row(const char *key, const char *value, SDL_Color c = kValue) {
        t.draw(Font::Mono, x, y, key, kKey);
        t.draw(Font::Mono, value_x, y, value, c);
        y += lh;
    }
};

} // namespace

void Hud::draw(TextRenderer &t, float x, float y, float h, const FrameStats::Summary &s, const FrameStats &g, const HudInfo &in) {
    const float w = kWidth, pad = 12;
    const float lh = t.line_height(Font::Mono) + 1;
    const SDL_Rect clip{static_cast<int>(x), static_cast<int>(y), static_cast<int>(w), static_cast<int>(h)};
    t.set_clip(&clip); // long values (a model name, the fallback font) stay in the panel
    t.fill_rect(x, y, w, h, {16, 18, 24, 235});
    t.fill_rect(x, y, 1, h, {60, 66, 84, 255});

    char buf[160], tmp[32];
    Rows r{t, x + pad, y + pad, lh, x + pad + t.advance(Font::Mono, ' ') * 8};
    t.draw(Font::Mono, r.x, r.y, "PERF HUD", {255, 190, 90, 255});
    t.draw(Font::Mono, x + w - pad - t.measure(Font::Mono, "F1 hide", 7), r.y, "F1 hide", kKey);
    r.y += lh * 1.4f;

    const sm_model_info &m = *in.model;
    format_count(tmp, sizeof tmp, m.n_params);
    snprintf(buf, sizeof buf, "%.24s", m.name[0] ? m.name : "(unnamed)");
    r.row("model", buf);
    snprintf(buf, sizeof buf, "%s params, %s, %d layers", tmp, m.weight_type, m.n_layers);
    r.row("", buf);
    snprintf(buf, sizeof buf, "%s, %d thread%s", in.isa, in.threads, in.threads == 1 ? "" : "s");
    r.row("kernels", buf);
    r.y += lh * 0.4f;

    // Frame time: average and worst over the last second.
    const float fps = s.frame_avg_ms > 0 ? 1000.0f / s.frame_avg_ms : 0;
    snprintf(buf, sizeof buf, "%5.2f ms  %3.0f fps  max %.1f", s.frame_avg_ms, fps, s.frame_max_ms);
    r.row("frame", buf, s.frame_max_ms > 20 ? kWarn : kValue);
    snprintf(buf, sizeof buf, "%5.2f ms until present", s.work_avg_ms);
    r.row("work", buf);

    // Graph: one bar per frame, the model's share in orange at its foot. Scale 0..33 ms,
    // with the 16.7 ms (60 Hz) line.
    const float gx = r.x, gy = r.y + 2, gw = w - 2 * pad, gh = 64, full_ms = 33.3f;
    t.fill_rect(gx, gy, gw, gh, {28, 31, 40, 255});
    const int n = g.graph_count();
    const float bw = gw / FrameStats::kGraphFrames;
    for (int i = 0; i < n; i++) {
        const float bx = gx + gw - static_cast<float>(n - i) * bw;
        const float fh = std::min(gh, g.graph_frame_ms(i) / full_ms * gh);
        const float sh = std::min(fh, std::max(1.0f, g.graph_step_ms(i) / full_ms * gh));
        t.fill_rect(bx, gy + gh - fh, std::max(1.0f, bw - 0.5f), fh, kFrame);
        if (g.graph_step_ms(i) > 0) t.fill_rect(bx, gy + gh - sh, std::max(1.0f, bw - 0.5f), sh, kStep);
    }
    const float y60 = gy + gh - 16.67f / full_ms * gh;
    t.fill_rect(gx, y60, gw, 1, {120, 220, 140, 160});
    const float yb = gy + gh - std::min(gh, in.budget_us / 1000.0f / full_ms * gh);
    t.fill_rect(gx, yb, gw, 1, {255, 150, 60, 120});
    // Labels on a dark backing: the bars run under them.
    const float l33 = t.measure(Font::Mono, "33 ms", 5), l16 = t.measure(Font::Mono, "16.7", 4);
    t.fill_rect(gx, gy, l33 + 6, lh, {28, 31, 40, 220});
    t.draw(Font::Mono, gx + 3, gy, "33 ms", {130, 138, 156, 255});
    t.fill_rect(gx + gw - l16 - 6, y60 - lh, l16 + 6, lh - 1, {28, 31, 40, 220});
    t.draw(Font::Mono, gx + gw - l16 - 3, y60 - lh, "16.7", {120, 220, 140, 255});
    r.y = gy + gh + 6;
    t.fill_rect(r.x, r.y + lh * 0.35f, 8, 8, kFrame);
    t.draw(Font::Mono, r.x + 12, r.y, "frame", kKey);
    t.fill_rect(r.x + 70, r.y + lh * 0.35f, 8, 8, kStep);
    t.draw(Font::Mono, r.x + 82, r.y, "model step", kKey);
    r.y += lh * 1.3f;

    // Step time against the budget, over the model's last busy second (see Summary).
    snprintf(buf, sizeof buf, "%.2f ms / frame  (Ctrl +/-)", in.budget_us / 1000.0);
    r.row("budget", buf);
    if (s.busy_frames) {
        const float over = s.step_p99_us / static_cast<float>(in.budget_us);
        snprintf(buf, sizeof buf, "p50 %.2f  p99 %.2f  max %.2f", s.step_p50_us / 1000.0, s.step_p99_us / 1000.0,
                 s.step_max_us / 1000.0);
        r.row("step ms", buf, over > 1.5f ? kBad : over > 1.15f ? kWarn : kGood);
        snprintf(buf, sizeof buf, "%.0f tok/s  (%.0f in step time)", s.tokens_per_s, s.tokens_per_step_s);
        r.row("speed", buf);
        snprintf(buf, sizeof buf, "%d tokens", in.reply_tokens);
        r.row("reply", buf);
        snprintf(buf, sizeof buf, "%d of %d frames, %d preempted", s.over_budget, s.busy_frames, s.over_preempted);
        r.row("over", buf, s.over_budget > s.over_preempted ? kWarn : kValue);
        if (s.busy_age_s > 1.0f) {
            snprintf(buf, sizeof buf, "(idle; last busy second, %.0f s ago)", s.busy_age_s);
            r.row("", buf, kKey);
        }
    } else {
        r.row("step ms", "idle: nothing submitted yet", kKey);
        r.row("speed", "-", kKey);
    }

    // Step graph: each frame's model time against the budget (the middle line).
    {
        const float sgx = r.x, sgy = r.y + 4, sgw = w - 2 * pad, sgh = 40;
        const float top_ms = 2.0f * in.budget_us / 1000.0f;
        t.fill_rect(sgx, sgy, sgw, sgh, {28, 31, 40, 255});
        for (int i = 0; i < n; i++) {
            const float ms = g.graph_step_ms(i);
            if (ms <= 0) continue;
            const float bx = sgx + sgw - static_cast<float>(n - i) * bw;
            const float bh = std::min(sgh, std::max(1.0f, ms / top_ms * sgh));
            const SDL_Color c = ms > 1.5f * top_ms / 2 ? kBad : kStep;
            t.fill_rect(bx, sgy + sgh - bh, std::max(1.0f, bw - 0.5f), bh, c);
        }
        t.fill_rect(sgx, sgy + sgh * 0.5f, sgw, 1, {230, 232, 238, 110});
        snprintf(buf, sizeof buf, "model step per frame; line = budget");
        t.fill_rect(sgx, sgy, t.measure(Font::Mono, buf, strlen(buf)) + 6, lh, {28, 31, 40, 220});
        t.draw(Font::Mono, sgx + 3, sgy, buf, {130, 138, 156, 255});
        r.y = sgy + sgh + 8;
    }

    // Teach mode: the character's adapter learning in the same frames.
    if (in.teach && in.teach->ready) {
        const TeachStatus &ts = *in.teach;
        if (ts.active) {
            snprintf(buf, sizeof buf, "step %d/%d  loss %.3f", ts.step, ts.steps, ts.train_loss);
            r.row("teach", buf, kGood);
            snprintf(buf, sizeof buf, "slice %.2f ms  max %.2f", ts.slice_us / 1000.0, ts.slice_max_us / 1000.0);
            r.row("", buf, ts.slice_max_us > 1.5f * static_cast<float>(in.budget_us) ? kWarn : kValue);
        } else if (ts.lessons) {
            snprintf(buf, sizeof buf, "%d lesson%s: loss %.2f -> %.2f", ts.lessons, ts.lessons == 1 ? "" : "s", ts.loss_before,
                     ts.loss_after);
            r.row("teach", buf);
        } else {
            r.row("teach", "/teach TEXT: learn it", kKey);
        }
    }
    snprintf(buf, sizeof buf, "%.2f / %.2f MiB", mib(in.memory.used), mib(in.memory.budget));
    r.row("arena", buf);
    snprintf(buf, sizeof buf, "pos %lld  (ctx %d, %d sinks)", static_cast<long long>(in.session.n_past), m.n_ctx, m.n_sinks);
    r.row("kv", buf, in.session.n_past > m.n_ctx ? kWarn : kValue);
    snprintf(buf, sizeof buf, "%s  (%s mode)", phase_name(in.session.phase), in.mode);
    r.row("phase", buf, in.session.phase == SM_PHASE_PREFILL || in.session.phase == SM_PHASE_DECODE ? kGood : kValue);
    snprintf(buf, sizeof buf, "%llu last frame, %llu after warm-up", static_cast<unsigned long long>(in.frame_allocs),
             static_cast<unsigned long long>(in.loop_allocs));
    r.row("new()", buf, in.loop_allocs ? kWarn : kValue);
    snprintf(buf, sizeof buf, "%.20s, %s", in.renderer, in.paced ? "paced 60 Hz" : in.vsync ? "vsync" : "unpaced");
    r.row("render", buf);

    // Keys, at the foot of the panel.
    float ky = y + h - pad - lh * 3;
    t.fill_rect(x + pad, ky - 6, w - 2 * pad, 1, {50, 56, 72, 255});
    t.draw(Font::Mono, x + pad, ky, "Enter send   Esc stop   F5 reset", kKey);
    t.draw(Font::Mono, x + pad, ky + lh, "Ctrl +/- budget  PgUp/PgDn scroll", kKey);
    t.draw(Font::Mono, x + pad, ky + 2 * lh, "End follow  Ctrl+V paste  F1 HUD", kKey);
    t.set_clip(nullptr);
}
