// Single-producer single-consumer ring of trivially copyable items over caller memory:
// the async worker writes a session's output, the host's poll reads it, neither locks.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstring>

namespace sm {

template <class T> class SpscRing {
public:
    void init(T *storage, size_t capacity) {
        data_ = storage;
        cap_ = capacity;
        head_.store(0);
        tail_.store(0);
    }
    size_t size() const { return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire); }
    size_t free_space() const { return cap_ - size(); }
    size_t capacity() const { return cap_; }

    // Producer. Returns false (writing nothing) if n items do not fit.
    bool push(const T *items, size_t n) {
        const size_t h = head_.load(std::memory_order_relaxed), t = tail_.load(std::memory_order_acquire);
        if (cap_ - (h - t) < n) return false;
        for (size_t i = 0; i < n; i++) data_[(h + i) % cap_] = items[i];
        head_.store(h + n, std::memory_order_release);
        return true;
    }
    // Consumer. Takes up to max items; returns how many.
    size_t pop(T *out, size_t max) {
        const size_t t = tail_.load(std::memory_order_relaxed), h = head_.load(std::memory_order_acquire);
        size_t n = h - t;
        if (n > max) n = max;
        for (size_t i = 0; i < n; i++) out[i] = data_[(t + i) % cap_];
        tail_.store(t + n, std::memory_order_release);
        return n;
    }
    // Consumer: read up to max items, starting `skip` items in, without taking them.
    size_t peek(T *out, size_t max, size_t skip = 0) const {
        const size_t t = tail_.load(std::memory_order_relaxed), h = head_.load(std::memory_order_acquire);
        if (h - t <= skip) return 0;
        size_t n = h - t - skip;
        if (n > max) n = max;
        for (size_t i = 0; i < n; i++) out[i] = data_[(t + skip + i) % cap_];
        return n;
    }
    void clear() { tail_.store(head_.load()); }

private:
    T *data_ = nullptr;
    size_t cap_ = 0;
    alignas(64) std::atomic<size_t> head_{0};
    alignas(64) std::atomic<size_t> tail_{0};
};

} // namespace sm
