#include "input_line.h"

#include "utf8.h"

#include <cstring>

void InputLine::insert(const char *s) {
    for (size_t i = 0, n = strlen(s), len = 0; i < n; i += len) {
        const uint32_t cp = utf8::decode(s, n, i, &len);
        if (len_ + len > kCapacity) break;
        // One line: newlines and tabs (from paste) become spaces, other controls go.
        if (cp == '\n' || cp == '\r' || cp == '\t') {
            buf_[len_++] = ' ';
        } else if (cp >= 32 && cp != 127) {
            memcpy(buf_ + len_, s + i, len);
            len_ += len;
        }
    }
    buf_[len_] = 0;
}

void InputLine::backspace() {
    len_ -= utf8::last_char_len(buf_, len_);
    buf_[len_] = 0;
}

void InputLine::draw(TextRenderer &t, const SDL_Rect &box, const char *hint, bool busy, uint32_t now_ms) const {
    const float x = static_cast<float>(box.x), y = static_cast<float>(box.y);
    const float w = static_cast<float>(box.w), h = static_cast<float>(box.h);
    t.fill_rect(x, y, w, h, busy ? SDL_Color{34, 36, 44, 255} : SDL_Color{40, 44, 58, 255});
    t.fill_rect(x, y, w, 1, {70, 76, 96, 255});
    const float pad = 10, lh = t.line_height(Font::Body);
    const float ty = y + (h - lh) * 0.5f;
    const float avail = w - 2 * pad - 8;
    t.set_clip(&box);
    float end_x = x + pad;
    if (len_ == 0) {
        t.draw(Font::Body, x + pad + 6, ty, hint, {110, 116, 130, 255}); // clear of the caret
    } else {
        // Show the end of the text: skip whole characters from the front until it fits.
        size_t start = 0;
        float tw = t.measure(Font::Body, buf_, len_);
        while (tw > avail && start < len_) {
            size_t n = 0;
            tw -= t.advance(Font::Body, utf8::decode(buf_, len_, start, &n));
            start += n;
        }
        end_x = t.draw(Font::Body, x + pad, ty, buf_ + start, len_ - start, {235, 235, 240, 255});
    }
    if (!busy && (now_ms / 530) % 2 == 0) t.fill_rect(end_x + 1, ty + 2, 2, lh - 4, {120, 200, 255, 255});
    t.set_clip(nullptr);
}
