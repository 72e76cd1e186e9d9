#include "chat_log.h"

#include "utf8.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace {

constexpr size_t kMaxEntries = 2048;
constexpr uint32_t kNone = UINT32_MAX;

SDL_Color style_color(Style s) {
    switch (s) {
    case Style::User: return {120, 200, 255, 255};      // what the player typed
    case Style::Assistant: return {232, 232, 228, 255}; // what the model wrote
    case Style::Label: return {255, 190, 90, 255};
    case Style::Note: return {130, 136, 148, 255};
    case Style::Error: return {255, 110, 100, 255};
    }
    return {255, 255, 255, 255};
}

} // namespace

void ChatLog::init(TextRenderer *text, Font font, size_t text_capacity) {
    text_ = text;
    font_ = font;
    buf_.assign(text_capacity, 0);
    entries_.resize(kMaxEntries);
    // Every line but a paragraph's last consumes at least one byte ('\n' or a character),
    // so this many lines can never run out: layout needs no overflow path.
    lines_.resize(text_capacity + kMaxEntries + 1);
    line_h_ = text->line_height(font);
    para_gap_ = std::round(line_h_ * 0.5f);
    clear();
}

void ChatLog::clear() {
    used_ = n_entries_ = n_lines_ = 0;
    follow_ = true;
    scroll_top_ = 0;
}

bool ChatLog::last_ends_with_space() const {
    if (used_ == 0) return true;
    const char c = buf_[used_ - 1];
    return c == ' ' || c == '\n' || c == '\t';
}

void ChatLog::add(Style s, const char *text, bool paragraph) { add(s, text, strlen(text), paragraph); }

void ChatLog::add(Style s, const char *text, size_t len, bool paragraph) {
    len = utf8::clamp_to_char(text, len, buf_.size() / 4);
    if (n_entries_ == entries_.size() || used_ + len > buf_.size()) make_room(len);
    // The first entry always starts a paragraph (layout relies on it).
    const bool starts = paragraph || n_entries_ == 0;
    entries_[n_entries_] = {static_cast<uint32_t>(used_), 0, s, starts};
    n_entries_++;
    append(text, len);
    if (len == 0) relayout_tail(); // an empty paragraph still takes its place
}

void ChatLog::append(const char *text, size_t len) {
    if (n_entries_ == 0 || len == 0) return;
    len = utf8::clamp_to_char(text, len, buf_.size() / 4);
    if (used_ + len > buf_.size()) make_room(len);
    memcpy(&buf_[used_], text, len);
    used_ += len;
    entries_[n_entries_ - 1].len += static_cast<uint32_t>(len);
    relayout_tail();
}

void ChatLog::make_room(size_t bytes) {
    // Keep at most half the buffer (minus what is coming), cut at a paragraph if one
    // starts late enough, else inside the oldest kept paragraph at a character boundary.
    const size_t keep = buf_.size() / 2 > bytes ? buf_.size() / 2 - bytes : 0;
    const size_t min_cut = used_ > keep ? used_ - keep : 0;
    size_t first = n_entries_; // first entry kept
    size_t cut = used_;
    for (size_t i = 0; i < n_entries_; i++)
        if (entries_[i].paragraph && entries_[i].start >= min_cut && i > 0) {
            first = i;
            cut = entries_[i].start;
            break;
        }
    if (first == n_entries_ || n_entries_ - first > kMaxEntries / 2) {
        // No paragraph boundary in range (or too many entries kept): cut mid-text.
        cut = min_cut;
        while (cut < used_ && (static_cast<unsigned char>(buf_[cut]) & 0xC0) == 0x80) cut++;
        first = entry_at(static_cast<uint32_t>(cut));
        if (n_entries_ - first > kMaxEntries / 2) first = n_entries_ - kMaxEntries / 2;
        if (entries_[first].start > cut) cut = entries_[first].start;
        const uint32_t drop = static_cast<uint32_t>(cut) - entries_[first].start;
        entries_[first].start += drop;
        entries_[first].len = entries_[first].len > drop ? entries_[first].len - drop : 0;
        entries_[first].paragraph = true;
    }
    memmove(buf_.data(), buf_.data() + cut, used_ - cut);
    used_ -= cut;
    n_entries_ -= first;
    for (size_t i = 0; i < n_entries_; i++) {
        entries_[i] = entries_[i + first];
        entries_[i].start -= static_cast<uint32_t>(cut);
    }
    if (n_entries_ > 0) entries_[0].paragraph = true;
    relayout_all();
}

size_t ChatLog::entry_at(uint32_t pos) const {
    // Last entry starting at or before pos.
    size_t lo = 0, hi = n_entries_;
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (entries_[mid].start <= pos) lo = mid + 1;
        else hi = mid;
    }
    return lo > 0 ? lo - 1 : 0;
}

bool ChatLog::push_line(uint32_t start, uint32_t end, float y) {
    if (n_lines_ == lines_.size()) return false; // cannot happen (see init)
    lines_[n_lines_++] = {start, end, y};
    return true;
}

void ChatLog::set_width(float w) {
    w = std::max(w, 32.0f);
    if (w == width_) return;
    width_ = w;
    relayout_all();
}

void ChatLog::relayout_all() {
    n_lines_ = 0;
    if (n_entries_ > 0) relayout_from(0, 0);
}

void ChatLog::relayout_tail() {
    if (n_lines_ == 0) return relayout_all();
    // Appending only changes the last line and what follows it.
    const Line last = lines_[--n_lines_];
    relayout_from(last.start, last.y);
}

void ChatLog::relayout_from(uint32_t start, float y) {
    // The next paragraph boundary strictly after pos.
    auto next_paragraph = [&](uint32_t pos) {
        for (size_t i = entry_at(pos); i < n_entries_; i++)
            if (entries_[i].paragraph && entries_[i].start > pos) return entries_[i].start;
        return kNone;
    };
    const char *s = buf_.data();
    const uint32_t end = static_cast<uint32_t>(used_);
    uint32_t line_start = start, pos = start, brk = kNone;
    uint32_t para_end = next_paragraph(start);
    float x = 0;
    for (;;) {
        if (pos == para_end) {
            push_line(line_start, pos, y);
            y += line_h_ + para_gap_;
            line_start = pos;
            x = 0;
            brk = kNone;
            para_end = next_paragraph(pos);
            continue;
        }
        if (pos >= end) break;
        size_t len = 0;
        const uint32_t cp = utf8::decode(s, end, pos, &len);
        if (cp == '\n') {
            push_line(line_start, pos, y);
            y += line_h_;
            pos += static_cast<uint32_t>(len);
            line_start = pos;
            x = 0;
            brk = kNone;
            continue;
        }
        const float w = text_->advance(font_, cp);
        if (x + w > width_ && pos > line_start && cp != ' ') {
            // Break after the last space on the line, or mid-word if it has none.
            const uint32_t cut = brk != kNone && brk > line_start ? brk : pos;
            push_line(line_start, cut, y);
            y += line_h_;
            line_start = cut;
            brk = kNone;
            x = text_->measure(font_, s + cut, pos - cut); // the carried-over word
            continue;                                      // then place cp again
        }
        x += w;
        pos += static_cast<uint32_t>(len);
        if (cp == ' ') brk = pos;
    }
    push_line(line_start, end, y);
}

void ChatLog::scroll_by(float dy) {
    const float content = n_lines_ ? lines_[n_lines_ - 1].y + line_h_ : 0;
    const float max_top = std::max(0.0f, content - view_h_);
    float top = follow_ ? max_top : std::min(scroll_top_, max_top);
    top = std::max(0.0f, top - dy);
    scroll_top_ = top;
    follow_ = top >= max_top; // scrolled back to the end: stick to new text again
}

void ChatLog::draw(const SDL_Rect &area) {
    view_h_ = static_cast<float>(area.h);
    const float content = n_lines_ ? lines_[n_lines_ - 1].y + line_h_ : 0;
    const float max_top = std::max(0.0f, content - view_h_);
    const float top = follow_ ? max_top : std::min(scroll_top_, max_top);
    if (follow_) scroll_top_ = top;

    // First line reaching into the view.
    size_t lo = 0, hi = n_lines_;
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (lines_[mid].y + line_h_ <= top) lo = mid + 1;
        else hi = mid;
    }
    text_->set_clip(&area);
    const float x0 = static_cast<float>(area.x);
    const float y0 = static_cast<float>(area.y) - std::round(top);
    for (size_t i = lo; i < n_lines_ && lines_[i].y < top + view_h_; i++) {
        const Line &ln = lines_[i];
        float x = x0;
        uint32_t pos = ln.start;
        size_t e = entry_at(pos);
        while (pos < ln.end) {
            while (e + 1 < n_entries_ && entries_[e].start + entries_[e].len <= pos) e++;
            const uint32_t seg_end = std::min(ln.end, entries_[e].start + entries_[e].len);
            if (seg_end <= pos) break;
            x = text_->draw(font_, x, y0 + ln.y, buf_.data() + pos, seg_end - pos, style_color(entries_[e].style));
            pos = seg_end;
        }
    }
    // Scrolled back: say so, since new text arrives off-screen.
    if (!follow_) {
        const char *msg = "more below - End to follow";
        const float w = text_->measure(Font::Mono, msg, strlen(msg)) + 12;
        const float lh = text_->line_height(Font::Mono);
        const float bx = static_cast<float>(area.x + area.w) - w, by = static_cast<float>(area.y + area.h) - lh - 4;
        text_->fill_rect(bx, by, w, lh + 4, {60, 64, 80, 230});
        text_->draw(Font::Mono, bx + 6, by + 2, msg, {220, 220, 230, 255});
    }
    text_->set_clip(nullptr);
}
