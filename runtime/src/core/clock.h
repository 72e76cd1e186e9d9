#pragma once
#include <chrono>
#include <cstdint>

namespace sm {
// Monotonic microseconds; the frame loop measures its slices with this.
inline uint64_t now_us() {
    using namespace std::chrono;
    return static_cast<uint64_t>(duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count());
}
inline uint64_t now_ns() {
    using namespace std::chrono;
    return static_cast<uint64_t>(duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count());
}

// The clock a step measures its budget on: the steady clock, or a test's fake one, so a
// test can check that a step stops at its budget without depending on the machine's speed.
struct Clock {
    uint64_t (*now)(void *user) = nullptr; // nullptr: now_ns()
    void *user = nullptr;
    uint64_t ns() const { return now ? now(user) : now_ns(); }
};
} // namespace sm
