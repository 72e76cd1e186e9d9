// Sleeping on a 32-bit atomic without a lock: Linux futex, a yield loop elsewhere.
#pragma once
#include <atomic>
#include <cstdint>

namespace sm {
void futex_wait(std::atomic<uint32_t> *addr, uint32_t expected);
void futex_wake_all(std::atomic<uint32_t> *addr);
} // namespace sm
