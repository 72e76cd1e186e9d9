// Utf8Stream: whole characters out of a stream of token bytes (see tokenizer.h). The
// validity rules are the WHATWG decoder's: shortest forms only, no surrogates, nothing
// above U+10FFFF, and a bad sequence is replaced by one U+FFFD per maximal subpart
// (the bytes that were a valid prefix), the offending byte being read again.
#include "text/tokenizer.h"

#include <cstring>

namespace sm::text {

namespace {

// Length of the sequence lead starts (0: lead cannot start one), and the allowed range
// of the byte after it.
int seq_len(unsigned char lead, unsigned char *lo, unsigned char *hi) {
    *lo = 0x80;
    *hi = 0xBF;
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    if (lead >= 0xE0 && lead <= 0xEF) {
        if (lead == 0xE0) *lo = 0xA0;
        if (lead == 0xED) *hi = 0x9F;
        return 3;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        if (lead == 0xF0) *lo = 0x90;
        if (lead == 0xF4) *hi = 0x8F;
        return 4;
    }
    return 0;
}

struct Out {
    char *p;
    size_t cap, n = 0;
    void put(const unsigned char *s, size_t k) { // whole characters only; what does not fit is lost
        if (n + k > cap) return;
        memcpy(p + n, s, k);
        n += k;
    }
    void replacement() {
        static const unsigned char kFFFD[3] = {0xEF, 0xBF, 0xBD};
        put(kFFFD, 3);
    }
};

} // namespace

size_t Utf8Stream::push(const char *bytes, size_t n, char *out, size_t cap) {
    Out o{out, out ? cap : 0};
    // The stream is pending_ followed by bytes; at(i) reads it without copying.
    const size_t total = static_cast<size_t>(n_pending_) + n;
    auto at = [&](size_t i) -> unsigned char {
        return i < static_cast<size_t>(n_pending_) ? pending_[i]
                                                   : static_cast<unsigned char>(bytes[i - static_cast<size_t>(n_pending_)]);
    };
    size_t i = 0;
    while (i < total) {
        unsigned char lo, hi, c = at(i);
        int len = seq_len(c, &lo, &hi);
        if (len == 0) {
            o.replacement();
            i++;
            continue;
        }
        int got = 1;
        while (got < len && i + static_cast<size_t>(got) < total) {
            unsigned char x = at(i + static_cast<size_t>(got));
            if (got == 1 ? (x < lo || x > hi) : (x < 0x80 || x > 0xBF)) break;
            got++;
        }
        if (got == len) {
            unsigned char ch[4];
            for (int k = 0; k < len; k++) ch[k] = at(i + static_cast<size_t>(k));
            o.put(ch, static_cast<size_t>(len));
            i += static_cast<size_t>(len);
        } else if (i + static_cast<size_t>(got) == total) {
            break; // a valid prefix cut by the end of what we have: wait for more
        } else {
            o.replacement(); // the valid prefix is one bad character; re-read the byte after it
            i += static_cast<size_t>(got);
        }
    }
    // Keep the tail (< 4 bytes, a valid prefix) for the next call.
    unsigned char tail[4];
    int nt = 0;
    for (size_t k = i; k < total; k++) tail[nt++] = at(k);
    memcpy(pending_, tail, static_cast<size_t>(nt));
    n_pending_ = nt;
    return o.n;
}

size_t Utf8Stream::flush(char *out, size_t cap) {
    Out o{out, out ? cap : 0};
    if (n_pending_ > 0) o.replacement(); // an unfinished character
    n_pending_ = 0;
    return o.n;
}

void Utf8Stream::restore(const unsigned char *bytes, int n) {
    n_pending_ = 0;
    if (!bytes || n <= 0) return;
    if (n > 3) n = 3; // a pending tail is never a whole character
    memcpy(pending_, bytes, static_cast<size_t>(n));
    n_pending_ = n;
}

} // namespace sm::text
