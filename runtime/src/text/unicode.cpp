#include "text/unicode.h"

namespace sm::text {

uint32_t decode_lenient(const uint8_t *p, size_t n, size_t *adv) {
    const uint8_t b = p[0];
    *adv = 1;
    if (b < 0x80) return b;
    auto cont = [&](size_t i) { return i < n && (p[i] & 0xC0) == 0x80; };
    if (b < 0xC0) return kReplacementChar; // stray continuation byte
    if (b < 0xE0) {
        if (!cont(1)) return kReplacementChar;
        *adv = 2;
        return (uint32_t(b & 0x1F) << 6) | (p[1] & 0x3F);
    }
    if (b < 0xF0) {
        if (!cont(1) || !cont(2)) return kReplacementChar;
        *adv = 3;
        return (uint32_t(b & 0x0F) << 12) | (uint32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    }
    if (b < 0xF8) {
        if (!cont(1) || !cont(2) || !cont(3)) return kReplacementChar;
        uint32_t cp = (uint32_t(b & 0x07) << 18) | (uint32_t(p[1] & 0x3F) << 12) | (uint32_t(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
        if (cp > 0x10FFFF) return kReplacementChar; // llama.cpp throws here; we degrade
        *adv = 4;
        return cp;
    }
    return kReplacementChar;
}

size_t encode_utf8(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = static_cast<char>(cp);
        return 1;
    }
    if (cp < 0x800) {
        out[0] = static_cast<char>(0xC0 | (cp >> 6));
        out[1] = static_cast<char>(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = static_cast<char>(0xE0 | (cp >> 12));
        out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out[2] = static_cast<char>(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = static_cast<char>(0xF0 | (cp >> 18));
    out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[3] = static_cast<char>(0x80 | (cp & 0x3F));
    return 4;
}

namespace {

// Printable Latin-1 bytes map to themselves; the other 68 bytes take U+0100.. in order.
constexpr bool printable(int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); }

struct Gpt2Table {
    uint16_t to_cpt[256] = {};
    int16_t to_byte[0x144] = {};
    constexpr Gpt2Table() {
        for (int i = 0; i < 0x144; i++) to_byte[i] = -1;
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            uint16_t cp = printable(b) ? static_cast<uint16_t>(b) : static_cast<uint16_t>(256 + extra++);
            to_cpt[b] = cp;
            to_byte[cp] = static_cast<int16_t>(b);
        }
    }
};
constexpr Gpt2Table kGpt2{};

} // namespace

uint32_t gpt2_byte_to_cpt(uint8_t b) { return kGpt2.to_cpt[b]; }

int gpt2_cpt_to_byte(uint32_t cp) { return cp < 0x144 ? kGpt2.to_byte[cp] : -1; }

} // namespace sm::text
