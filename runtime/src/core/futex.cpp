#include "core/futex.h"

#include <thread>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace sm {

void futex_wait(std::atomic<uint32_t> *addr, uint32_t expected) {
#if defined(__linux__)
    syscall(SYS_futex, reinterpret_cast<uint32_t *>(addr), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
#else
    while (addr->load(std::memory_order_acquire) == expected) std::this_thread::yield();
#endif
}

void futex_wake_all(std::atomic<uint32_t> *addr) {
#if defined(__linux__)
    syscall(SYS_futex, reinterpret_cast<uint32_t *>(addr), FUTEX_WAKE_PRIVATE, 0x7fffffff, nullptr, nullptr, 0);
#else
    (void)addr;
#endif
}

} // namespace sm
