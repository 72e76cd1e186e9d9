// smallmind_chat: an SDL2 window where a language model writes inside the frame loop.
// Each frame: events, one sm_session_step with the frame's budget, draw, present, pace to
// 60 Hz. See README.md in this folder for the keys and the headless screenshot test.
#include "chat_args.h"
#include "chat_app.h"
#include "model_host.h"
#include "screenshot.h"
#include "video.h"

#include "perf/alloc_counter.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kWindowW = 960, kWindowH = 600;
constexpr auto kFrame = std::chrono::microseconds(16667); // 60 Hz when vsync does not pace us
// Frames left out of the allocation count: GPU drivers build shaders and JIT code on the
// first draws and presents (Mesa's llvmpipe does it in C++, through our operator new;
// seen in frames 0 and 3 under Xvfb).
constexpr int kWarmupFrames = 10;

uint64_t to_us(Clock::time_point t) {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

void push_text(const char *s) {
    SDL_Event e{};
    e.type = SDL_TEXTINPUT;
    snprintf(e.text.text, sizeof e.text.text, "%s", s);
    SDL_PushEvent(&e);
}

void push_key(SDL_Keycode k, SDL_Scancode sc) {
    SDL_Event e{};
    e.type = SDL_KEYDOWN;
    e.key.state = SDL_PRESSED;
    e.key.keysym.sym = k;
    e.key.keysym.scancode = sc;
    SDL_PushEvent(&e);
}

// The --screenshot run types through SDL's event queue, so the test exercises the same
// input path as a player: a story opening and Enter; then, a few frames before the
// capture, a second opening, so the picture catches the model mid-stream with a live HUD.
void script(int frame, int frames, const std::string &teach) {
    auto type_line = [](const char *s) {
        push_text(s);
        push_key(SDLK_RETURN, SDL_SCANCODE_RETURN);
    };
    // SDL's text events hold 32 bytes: a longer line goes in pieces, Enter after the last.
    if (frame == 3 && !teach.empty()) {
        const std::string line = "/teach " + teach;
        for (size_t at = 0; at < line.size(); at += 31) push_text(line.substr(at, 31).c_str());
        push_key(SDLK_RETURN, SDL_SCANCODE_RETURN);
    }
    if (frame == 5) type_line("Once upon a time");
    if (frames >= 60 && frame == frames - 8) type_line("Tom had a big red ball");
}

} // namespace

int main(int argc, char **argv) {
    ChatOptions opt;
    if (!parse_args(argc, argv, &opt)) return 2;
    if (opt.help) {
        print_usage(argv[0]);
        return 0;
    }
    const bool shot = !opt.screenshot.empty();

    // The model first: a bad path fails fast, before any window appears.
    ModelHost host;
    if (!host.load(opt)) return 1;

    Video video;
    if (!video.create("SmallMind chat", kWindowW, kWindowH, opt.vsync, shot)) return 1;
    ChatApp app;
    if (!app.init(opt, &host, video.renderer, video.renderer_name, video.vsync)) return 1;
    if (video.window) SDL_StartTextInput();

    // Trust a hardware renderer's vsync until it proves absent (Xvfb, a compositor that
    // does not throttle): if most of 60 frames present in well under a refresh, the
    // software pacer takes over. The software renderer never waits, so it is paced always.
    bool paced = !video.vsync || video.software;
    int fast_frames = 0, counted_frames = 0;
    Clock::time_point next_deadline = Clock::now();
    uint64_t loop_allocs = 0;
    int exit_code = 0;
    for (int frame = 0;; frame++) {
        const Clock::time_point start = Clock::now();
        const uint64_t allocs_before = heap_allocations();

        SDL_Event e;
        while (SDL_PollEvent(&e)) app.handle_event(e);
        app.end_event_batch();
        if (app.quit_requested()) {
            if (shot) {
                fprintf(stderr, "error: window closed before frame %d; no screenshot written\n", opt.frames);
                exit_code = 1;
            }
            break;
        }
        if (shot) script(frame, opt.frames, opt.teach_script);

        app.step_model();
        int w = kWindowW, h = kWindowH;
        video.output_size(&w, &h);
        app.draw(w, h, to_us(start));

        if (shot && frame + 1 >= opt.frames) {
            // Read back before present: the back buffer holds this frame.
            if (frame >= kWarmupFrames) loop_allocs += heap_allocations() - allocs_before; // before the PNG's buffer
            exit_code = save_screenshot(video.renderer, w, h, opt.screenshot.c_str()) ? 0 : 1;
            if (exit_code == 0) {
                sm_session_info si{};
                sm_session_get_info(host.session(), &si);
                printf("wrote %s: %dx%d, %d frames, renderer %s, kv position %lld, operator new in frames %d..%d: %llu\n",
                       opt.screenshot.c_str(), w, h, opt.frames, video.renderer_name, static_cast<long long>(si.n_past),
                       kWarmupFrames, frame, static_cast<unsigned long long>(loop_allocs));
                const TeachStatus &ts = app.teach_status();
                if (!opt.teach_script.empty())
                    printf("teach: %d lesson%s, step %d of %d, held-out loss on the taught text %.4f -> %.4f, slice max "
                           "%.2f ms\n",
                           ts.lessons, ts.lessons == 1 ? "" : "s", ts.step, ts.steps, ts.loss_before, ts.loss_after,
                           ts.slice_max_us / 1000.0);
            }
            break;
        }
        SDL_RenderPresent(video.renderer);
        const Clock::time_point presented = Clock::now();

        if (!paced) {
            fast_frames += presented - start < std::chrono::milliseconds(8);
            if (++counted_frames == 60) {
                paced = fast_frames >= 40;
                fast_frames = counted_frames = 0;
            }
        }
        if (paced) {
            // A fixed 60 Hz schedule, not "16.7 ms after this frame began": sleep overshoot
            // does not accumulate. After a long frame (a stall, a drag) start afresh.
            next_deadline += kFrame;
            if (presented > next_deadline) next_deadline = presented;
            else std::this_thread::sleep_until(next_deadline);
        }

        const Clock::time_point end = Clock::now();
        const uint64_t allocs = heap_allocations() - allocs_before;
        if (frame >= kWarmupFrames) loop_allocs += allocs;
        const float frame_ms = std::chrono::duration<float, std::milli>(end - start).count();
        const float work_ms = std::chrono::duration<float, std::milli>(presented - start).count();
        app.end_frame(to_us(end), frame_ms, work_ms, paced, allocs, loop_allocs);
    }
    return exit_code;
}
