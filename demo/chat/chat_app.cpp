#include "chat_app.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#ifdef __linux__
#include <sys/resource.h>
#endif

namespace {

constexpr float kMargin = 14;
constexpr float kHeaderH = 34, kInputH = 44;
constexpr size_t kLogBytes = 128 << 10;
// Budget steps for Ctrl +/- (microseconds per frame).
constexpr uint32_t kBudgets[] = {100, 250, 500, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 12000, 16000};

// Times this thread was preempted (Linux); on other systems overruns are not attributed.
long involuntary_switches() {
#ifdef __linux__
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) == 0) return ru.ru_nivcsw;
#endif
    return 0;
}

} // namespace

bool ChatApp::init(const ChatOptions &o, ModelHost *host, SDL_Renderer *r, const char *renderer_name, bool vsync) {
    opt_ = o;
    host_ = host;
    r_ = r;
    budget_us_ = o.budget_us;
    hud_on_ = o.hud;
    snprintf(renderer_name_, sizeof renderer_name_, "%s", renderer_name);
    if (!text_.init(r, 17.0f, 13.0f)) return false;
    log_.init(&text_, Font::Body, kLogBytes);

    const bool adds_bos = host->info().add_bos != 0;

    const bool chat = o.mode == ChatOptions::Mode::Chat || (o.mode == ChatOptions::Mode::Auto && host->has_chat_template());
    conv_.init(host->model(), chat ? Conversation::Mode::Chat : Conversation::Mode::Story, host->max_text_bytes(), adds_bos);

    const sm_model_info &mi = host->info();
    snprintf(title_, sizeof title_, "SmallMind  \xC2\xB7  %s  \xC2\xB7  %s mode", mi.name[0] ? mi.name : "model",
             chat ? "chat" : "story");
    hud_info_.model = &host->info();
    hud_info_.isa = host->isa();
    hud_info_.threads = host->threads();
    hud_info_.renderer = renderer_name_;
    hud_info_.vsync = vsync;
    hud_info_.mode = chat ? "chat" : "story";

    if (chat && host->has_chat_template()) {
        note(Style::Note,
             "Chat mode: %s has a chat template; each turn submits only the new text and the session "
             "keeps its KV cache. Type a message and press Enter.",
             mi.name);
    } else if (chat) {
        note(Style::Note,
             "Chat mode (--mode chat) with the plain fallback: %s has no chat template, so messages are "
             "just joined by newlines and the model continues them.",
             mi.name);
    } else {
        note(Style::Note,
             "Story mode: %s has no chat template, it continues text. Type the opening of a story and "
             "press Enter; the model writes the rest inside the frame loop, %.1f ms per frame.",
             mi.name[0] ? mi.name : "this model", budget_us_ / 1000.0);
    }
    note(Style::Note, "Esc stops it, F5 or Ctrl+L starts over, Ctrl +/- changes the budget, F1 the HUD.");
    if (o.teach) {
        if (!teacher_.init(host->model(), host->session(), host->start_adapter())) {
            fprintf(stderr, "error: cannot start teach mode: %s\n", host->last_error());
            return false;
        }
        hud_info_.teach = &teacher_.status();
        note(Style::Note,
             "/teach TEXT: the character learns TEXT while it talks (its LoRA adapter, %.1f ms of training per "
             "frame); /save PATH keeps what it learned.",
             budget_us_ / 1000.0);
    }
    return true;
}

void ChatApp::note(Style s, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) log_.add(s, buf, std::min(static_cast<size_t>(n), sizeof buf - 1), true);
}

void ChatApp::change_budget(int dir) {
    const size_t n = sizeof kBudgets / sizeof *kBudgets;
    size_t i = 0;
    while (i < n && kBudgets[i] < budget_us_) i++; // first step >= current
    if (dir > 0) i = (i < n && kBudgets[i] == budget_us_) ? std::min(i + 1, n - 1) : std::min(i, n - 1);
    else i = i > 0 ? i - 1 : 0;
    budget_us_ = kBudgets[i];
}

void ChatApp::handle_event(const SDL_Event &e) {
    switch (e.type) {
    case SDL_QUIT: quit_ = true; break;
    case SDL_TEXTINPUT:
        // Shortcuts (Ctrl/Alt combinations, keypad +/-) must not also type a character.
        if (swallow_text_ || (SDL_GetModState() & (KMOD_CTRL | KMOD_ALT))) break;
        input_.insert(e.text.text);
        break;
    case SDL_MOUSEWHEEL: log_.scroll_by(static_cast<float>(e.wheel.y) * 3 * text_.line_height(Font::Body)); break;
    case SDL_KEYDOWN: {
        const SDL_Keycode k = e.key.keysym.sym;
        const bool ctrl = (e.key.keysym.mod & KMOD_CTRL) != 0;
        const float page = 10 * text_.line_height(Font::Body);
        if (k == SDLK_RETURN || k == SDLK_KP_ENTER) send();
        else if (k == SDLK_BACKSPACE) input_.backspace();
        else if (k == SDLK_ESCAPE) {
            if (busy_) sm_session_cancel(host_->session()); // the finish arrives with a later step
        } else if (k == SDLK_F5 || (ctrl && k == SDLK_l)) reset_session();
        else if (k == SDLK_F1) hud_on_ = !hud_on_;
        else if (k == SDLK_KP_PLUS || (ctrl && (k == SDLK_EQUALS || k == SDLK_PLUS))) change_budget(+1), swallow_text_ = true;
        else if (k == SDLK_KP_MINUS || (ctrl && k == SDLK_MINUS)) change_budget(-1), swallow_text_ = true;
        else if (k == SDLK_PAGEUP) log_.scroll_by(page);
        else if (k == SDLK_PAGEDOWN) log_.scroll_by(-page);
        else if (k == SDLK_END) log_.scroll_to_end();
        else if (k == SDLK_HOME) log_.scroll_by(1e9f);
        else if (ctrl && k == SDLK_v && SDL_HasClipboardText()) {
            char *clip = SDL_GetClipboardText(); // SDL's allocation, on a key press only
            if (clip) input_.insert(clip);
            SDL_free(clip);
        }
        break;
    }
    default: break;
    }
}

bool ChatApp::command() {
    const char *t = input_.text();
    const size_t n = input_.size();
    auto is = [&](const char *c) { return n > strlen(c) && !strncmp(t, c, strlen(c)); };
    if (is("/teach ")) {
        const size_t k = strlen("/teach ");
        if (teacher_.status().active) note(Style::Error, "a lesson is running: wait for it to end");
        else if (!teacher_.status().ready) note(Style::Error, "teach mode is off (--no-teach)");
        else if (!teacher_.teach(t + k, n - k)) note(Style::Error, "cannot teach: %s", host_->last_error());
        else
            note(Style::Note, "[teaching: %d steps; held-out loss on the text %.3f]", teacher_.status().steps,
                 teacher_.status().loss_before);
    } else if (is("/save ")) {
        char path[256];
        snprintf(path, sizeof path, "%.*s", static_cast<int>(n - 6), t + 6);
        const sm_status st = teacher_.save(path);
        if (st == SM_OK) note(Style::Note, "[adapter saved to %s: load it with --adapter]", path);
        else note(Style::Error, "cannot save the adapter: %s (%s)", sm_status_string(st), host_->last_error());
    } else {
        return false;
    }
    input_.clear();
    log_.scroll_to_end();
    return true;
}

void ChatApp::send() {
    if (input_.size() == 0) return;
    if (command()) return;
    if (busy_) {
        // Enter while the model writes interrupts it: cancel now, send when the cancel
        // lands (on_finish), since a session takes new input once its reply is over.
        send_after_finish_ = true;
        sm_session_cancel(host_->session());
        return;
    }
    sm_session *s = host_->session();
    sm_session_info si{};
    sm_session_get_info(s, &si);
    const bool fresh = si.n_past == 0 && si.n_pending == 0;
    sm_status st = conv_.begin_turn(input_.text(), input_.size(), fresh);
    if (st == SM_OK) st = sm_session_submit_tokens(s, conv_.tokens(), conv_.n_tokens());
    if (st != SM_OK) {
        note(Style::Error, "cannot submit: %s (%s)", sm_status_string(st), host_->last_error());
        return;
    }
    if (conv_.mode() == Conversation::Mode::Chat) {
        log_.add(Style::Label, "You: ", true);
        log_.add(Style::User, input_.text(), input_.size(), false);
        char label[80];
        const int n = snprintf(label, sizeof label, "%s: ", host_->info().name[0] ? host_->info().name : "Model");
        log_.add(Style::Label, label, static_cast<size_t>(std::max(0, std::min(n, static_cast<int>(sizeof label) - 1))), true);
        log_.add(Style::Assistant, "", 0, false);
    } else {
        // A new story is a new paragraph; a continuation flows on after the cut-off text.
        const bool cont = conv_.continues_story();
        if (cont && !log_.last_ends_with_space()) {
            log_.add(Style::User, " ", 1, false); // the tokenizer adds this space for the model too
            log_.append(input_.text(), input_.size());
        } else {
            log_.add(Style::User, input_.text(), input_.size(), !cont);
        }
        log_.add(Style::Assistant, "", 0, false);
    }
    log_.scroll_to_end();
    input_.clear();
    busy_ = true;
    reply_tokens_ = 0;
}

void ChatApp::step_model() {
    sm_step_result r{};
    const long switches0 = involuntary_switches();
    const uint64_t t0 = SDL_GetPerformanceCounter();
    const sm_status st = sm_session_step(host_->session(), budget_us_, &r);
    const uint64_t t1 = SDL_GetPerformanceCounter();
    // Our own clock around the call: what the frame really paid, polling included.
    step_us_ = static_cast<float>(static_cast<double>(t1 - t0) * 1e6 / static_cast<double>(SDL_GetPerformanceFrequency()));
    worked_ = st == SM_OK && r.units > 0;
    // A step that overran because the OS took the core away is not the runtime's fault.
    preempted_ = involuntary_switches() != switches0;
    tokens_ = st == SM_OK ? static_cast<uint32_t>(r.n_tokens) : 0;
    if (st != SM_OK) {
        if (busy_) note(Style::Error, "step failed: %s (%s)", sm_status_string(st), host_->last_error());
        busy_ = false;
        return;
    }
    // The runtime ends a reply at EOS and at BOS (how llama2.c-style models start their
    // next story), so every token's text belongs to the reply.
    reply_tokens_ += static_cast<int>(r.n_tokens);
    if (r.text_len) {
        log_.append(r.text, r.text_len);
        conv_.append_reply(r.text, r.text_len);
    }
    if (r.finish != SM_FINISH_NONE) on_finish(r.finish);
    // The character's lesson gets its own slice of the same size.
    if (teacher_.step(budget_us_)) {
        const TeachStatus &ts = teacher_.status();
        note(Style::Note, "[lesson learned: held-out loss on the text %.3f -> %.3f in %d steps]", ts.loss_before, ts.loss_after,
             ts.step);
    }
}

void ChatApp::on_finish(sm_finish_reason why) {
    conv_.end_turn(why);
    busy_ = false;
    const bool story = conv_.mode() == Conversation::Mode::Story;
    // Inline grey markers at the end of the reply; the next story starts a new paragraph.
    switch (why) {
    case SM_FINISH_CANCELLED: log_.add(Style::Note, story ? " [stopped: Enter continues the story]" : " [stopped]", false); break;
    case SM_FINISH_MAX_TOKENS:
        log_.add(Style::Note, story ? " [max tokens: Enter continues the story]" : " [max tokens]", false);
        break;
    case SM_FINISH_EOS:
        if (story) log_.add(Style::Note, "  [the end]", false);
        break;
    default: break;
    }
    if (send_after_finish_) {
        send_after_finish_ = false;
        send();
    }
}

void ChatApp::reset_session() {
    sm_session_reset(host_->session()); // KV cache, tokens and sampler (re-seeded) forgotten
    conv_.clear();
    busy_ = send_after_finish_ = false;
    reply_tokens_ = 0;
    note(Style::Note, "[session reset: KV cache and conversation cleared]");
    log_.scroll_to_end();
}

void ChatApp::draw(int w, int h, uint64_t now_us) {
    const float fw = static_cast<float>(w), fh = static_cast<float>(h);
    const float panel = hud_on_ ? static_cast<float>(Hud::kWidth) : 0;
    const float left_w = fw - panel;

    SDL_SetRenderDrawColor(r_, 22, 24, 30, 255);
    SDL_RenderClear(r_);

    // Header.
    text_.fill_rect(0, 0, left_w, kHeaderH, {30, 33, 42, 255});
    text_.fill_rect(0, kHeaderH - 1, left_w, 1, {56, 62, 80, 255});
    const float ty = (kHeaderH - text_.line_height(Font::Body)) * 0.5f;
    text_.draw(Font::Body, kMargin, ty, title_, {235, 236, 240, 255});
    const char *state = busy_ ? "writing\xE2\x80\xA6" : "ready";
    const float sw = text_.measure(Font::Mono, state, strlen(state));
    text_.draw(Font::Mono, left_w - kMargin - sw, (kHeaderH - text_.line_height(Font::Mono)) * 0.5f, state,
               busy_ ? SDL_Color{120, 220, 140, 255} : SDL_Color{140, 150, 170, 255});

    // Log: between header and input, wrapped to the left column.
    SDL_Rect area{static_cast<int>(kMargin), static_cast<int>(kHeaderH + 10), static_cast<int>(left_w - 2 * kMargin),
                  static_cast<int>(fh - kHeaderH - kInputH - 20)};
    if (area.w > 0 && area.h > 0) {
        log_.set_width(static_cast<float>(area.w));
        log_.draw(area);
    }

    const SDL_Rect box{0, static_cast<int>(fh - kInputH), static_cast<int>(left_w), static_cast<int>(kInputH)};
    const char *hint = busy_ ? "the model is writing \xE2\x80\x94 Esc stops it, Enter interrupts it"
                       : conv_.mode() == Conversation::Mode::Story ? "Type the opening of a story, then Enter"
                                                                   : "Type a message, then Enter";
    input_.draw(text_, box, hint, busy_, static_cast<uint32_t>(now_us / 1000));

    if (hud_on_) {
        sm_runtime_memory(host_->runtime(), &hud_info_.memory);
        sm_session_get_info(host_->session(), &hud_info_.session);
        hud_info_.budget_us = budget_us_;
        hud_info_.reply_tokens = reply_tokens_;
        const FrameStats::Summary s = stats_.summarize(now_us);
        hud_.draw(text_, left_w, 0, fh, s, stats_, hud_info_);
    }
    text_.flush();
}

void ChatApp::end_frame(uint64_t now_us, float frame_ms, float work_ms, bool paced, uint64_t frame_allocs, uint64_t loop_allocs) {
    stats_.add(now_us, frame_ms, work_ms, step_us_, worked_, tokens_, step_us_ > 1.25f * static_cast<float>(budget_us_),
               preempted_);
    hud_info_.paced = paced;
    hud_info_.frame_allocs = frame_allocs;
    hud_info_.loop_allocs = loop_allocs;
}
