// The demo's state and its three per-frame duties: handle input events, give the model
// its slice of the frame (sm_session_step with the budget), draw log + input + HUD.
// Everything is sized in init(); the per-frame path makes no heap allocation.
#pragma once
#include "chat_args.h"
#include "chat_log.h"
#include "conversation.h"
#include "frame_stats.h"
#include "hud.h"
#include "input_line.h"
#include "model_host.h"
#include "teacher.h"
#include "text_render.h"

class ChatApp {
public:
    bool init(const ChatOptions &o, ModelHost *host, SDL_Renderer *r, const char *renderer_name, bool vsync);

    void handle_event(const SDL_Event &e);
    bool quit_requested() const { return quit_; }
    void end_event_batch() { swallow_text_ = false; }

    // Runs the model for at most the frame budget and streams its text into the log.
    void step_model();
    void draw(int w, int h, uint64_t now_us); // now_us: the clock end_frame gets
    // Frame bookkeeping after present: frame_ms = the whole frame (pacing included),
    // work_ms = until present returned.
    void end_frame(uint64_t now_us, float frame_ms, float work_ms, bool paced, uint64_t frame_allocs, uint64_t loop_allocs);

    bool busy() const { return busy_; }
    const TeachStatus &teach_status() const { return teacher_.status(); }

private:
    void send();
    bool command(); // a /teach or /save line: handled here, not sent to the model
    void on_finish(sm_finish_reason why);
    void reset_session();
    void change_budget(int dir);
    void note(Style s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

    ChatOptions opt_;
    ModelHost *host_ = nullptr;
    SDL_Renderer *r_ = nullptr;
    TextRenderer text_;
    ChatLog log_;
    InputLine input_;
    Conversation conv_;
    Teacher teacher_;
    FrameStats stats_;
    Hud hud_;
    HudInfo hud_info_;
    char title_[160] = "";
    char renderer_name_[32] = "";
    uint32_t budget_us_ = 2000;
    bool hud_on_ = true;
    bool busy_ = false;              // a reply is being generated
    bool send_after_finish_ = false; // Enter came while busy: send once the cancel lands      // the model wrote BOS (a new
                                     // document): cancelled, text dropped
    bool quit_ = false;
    bool swallow_text_ = false; // a key was a shortcut: drop its SDL_TEXTINPUT
    // This frame's step, for the stats.
    float step_us_ = 0;
    bool worked_ = false;
    bool preempted_ = false;
    uint32_t tokens_ = 0;
    int reply_tokens_ = 0;
};
