// The scrolling chat log: text kept in one preallocated buffer, word-wrapped into lines,
// drawn clipped to a rectangle.
//
// Entries are appended in order and each has a style (colour). An entry either starts a
// paragraph or continues the previous one's flow, so a story reads as one paragraph with
// the user's words and the model's in different colours. Because only the last entry ever
// grows, streaming text only re-wraps the last line: layout per frame is O(new text), not
// O(log). When the buffers fill, the oldest half is dropped and everything re-wrapped once.
#pragma once
#include "text_render.h"

#include <cstddef>
#include <cstdint>
#include <vector>

enum class Style : uint8_t { User, Assistant, Label, Note, Error };

class ChatLog {
public:
    void init(TextRenderer *text, Font font, size_t text_capacity);

    // Starts a new entry; paragraph = begin a new block (else it flows on the same line).
    void add(Style s, const char *text, size_t len, bool paragraph);
    void add(Style s, const char *text, bool paragraph);
    void append(const char *text, size_t len); // to the last entry (streaming)
    void clear();
    bool last_ends_with_space() const;
    size_t size_bytes() const { return used_; }

    // Layout width in pixels; changing it re-wraps everything (window resize, HUD toggle).
    void set_width(float w);
    void scroll_by(float dy_px); // positive = towards older text
    void scroll_to_end() { follow_ = true; }
    bool following() const { return follow_; }

    void draw(const SDL_Rect &area);

private:
    struct Entry {
        uint32_t start, len;
        Style style;
        bool paragraph;
    };
    struct Line {
        uint32_t start, end;
        float y;
    };

    void relayout_all();
    void relayout_from(uint32_t start, float y); // wrap text[start, used_) into lines
    void relayout_tail();                        // after the last entry grew
    void make_room(size_t bytes);
    size_t entry_at(uint32_t pos) const;
    bool push_line(uint32_t start, uint32_t end, float y);
    bool starts_paragraph(uint32_t pos, size_t *entry) const;

    TextRenderer *text_ = nullptr;
    Font font_ = Font::Body;
    std::vector<char> buf_;
    size_t used_ = 0;
    std::vector<Entry> entries_;
    size_t n_entries_ = 0;
    std::vector<Line> lines_;
    size_t n_lines_ = 0;
    float width_ = 100;
    float line_h_ = 16, para_gap_ = 8;
    float scroll_top_ = 0; // px from the top of the content, when not following
    float view_h_ = 0;
    bool follow_ = true; // stick to the newest text
};
