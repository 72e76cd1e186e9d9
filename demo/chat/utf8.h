// UTF-8 helpers for the demo's text paths (input line, layout, glyph lookup). The model
// hands us whole characters, but the input line and clipboard can hold anything, so every
// decoder here accepts malformed bytes and turns each one into U+FFFD instead of failing.
#pragma once
#include <cstddef>
#include <cstdint>

namespace utf8 {

constexpr uint32_t kReplacement = 0xFFFD;

// Decodes the character at s[i] (i < n); returns it and stores its byte length in *len
// (1 for a malformed byte, so the caller always advances).
inline uint32_t decode(const char *s, size_t n, size_t i, size_t *len) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    *len = 1;
    if (c < 0x80) return c;
    int extra;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) extra = 1, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) extra = 2, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) extra = 3, cp = c & 0x07;
    else return kReplacement;
    if (i + static_cast<size_t>(extra) >= n) return kReplacement; // truncated at the end
    for (int k = 1; k <= extra; k++) {
        const unsigned char cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
        if ((cc & 0xC0) != 0x80) return kReplacement;
        cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not characters.
    static const uint32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return kReplacement;
    *len = static_cast<size_t>(extra) + 1;
    return cp;
}

// Length of the last character of s[0, n): where backspace cuts.
inline size_t last_char_len(const char *s, size_t n) {
    if (n == 0) return 0;
    size_t k = 1;
    while (k < n && k < 4 && (static_cast<unsigned char>(s[n - k]) & 0xC0) == 0x80) k++;
    // Only a lead byte whose length matches makes a whole character; otherwise drop one byte.
    size_t len = 0;
    decode(s, n, n - k, &len);
    return len == k ? k : 1;
}

// The longest prefix of s[0, n) that does not end inside a character (for truncation).
inline size_t clamp_to_char(const char *s, size_t n, size_t cap) {
    if (n <= cap) return n;
    size_t k = cap;
    while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) k--;
    return k;
}

} // namespace utf8
