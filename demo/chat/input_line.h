// The one-line text input: fixed buffer, SDL_TEXTINPUT appends, backspace removes one
// whole UTF-8 character, Enter hands the text to the caller. The cursor stays at the end
// (a chat box, not an editor); long text scrolls so its end stays visible.
#pragma once
#include "text_render.h"

#include <cstddef>

class InputLine {
public:
    static constexpr size_t kCapacity = 1024; // bytes; enough for a prompt, bounded for the model

    void insert(const char *utf8); // drops what does not fit, never splits a character
    void backspace();
    void clear() {
        len_ = 0;
        buf_[0] = 0;
    }
    const char *text() const { return buf_; }
    size_t size() const { return len_; }

    // hint: shown greyed when empty. busy: the model is writing (no caret, dim box).
    void draw(TextRenderer &t, const SDL_Rect &box, const char *hint, bool busy, uint32_t now_ms) const;

private:
    char buf_[kCapacity + 1] = {};
    size_t len_ = 0;
};
