// A bump allocator over a span of arena memory, with a measuring mode.
//
// Plans are "sizes first, then one allocation, then pointers into it": the same layout
// code runs twice, first on a measuring Bump (base == nullptr, nothing is written, only
// sizes add up), then on the real block. Callers must not touch the returned pointers
// while measuring.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sm {

constexpr size_t kCacheLine = 64;

inline size_t align_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }

struct Bump {
    uint8_t *base = nullptr; // nullptr: measuring
    size_t cap = 0;          // ignored while measuring
    size_t used = 0;

    static Bump measuring() { return Bump{}; }
    static Bump over(void *p, size_t n) { return Bump{static_cast<uint8_t *>(p), n, 0}; }

    bool is_measuring() const { return base == nullptr; }

    // nullptr when measuring or when the span is exhausted (which a correct plan never
    // allows; callers check with overflowed()).
    void *take(size_t bytes, size_t align = kCacheLine) {
        size_t at = align_up(used, align);
        used = at + bytes;
        if (!base || used > cap) return nullptr;
        return base + at;
    }
    template <class T> T *take_n(size_t n, size_t align = kCacheLine) {
        return static_cast<T *>(take(n * sizeof(T), align < alignof(T) ? alignof(T) : align));
    }
    bool overflowed() const { return base && used > cap; }
    size_t remaining() const { return used >= cap ? 0 : cap - used; }
    void reset() { used = 0; }
};

} // namespace sm
