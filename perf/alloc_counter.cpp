// Counts heap allocations for `smallmind bench` ("heap allocations after load"), the chat
// demo's HUD and the zero-allocation tests: every malloc-family call from our objects (routed here by
// -Wl,--wrap in premake5.lua) and every operator new in the process. Under
// AddressSanitizer operator new stays ASan's (its new must pair with its delete), so only
// the malloc family counts there; the release run checks both.
#include "alloc_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<uint64_t> g_count{0};
}

uint64_t heap_allocations() { return g_count.load(); }

extern "C" {
void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
int __real_posix_memalign(void **, size_t, size_t);
void *__real_aligned_alloc(size_t, size_t);
void *__real_mi_malloc_aligned(size_t, size_t);
void *__wrap_mi_malloc_aligned(size_t n, size_t a) {
    g_count++;
    return __real_mi_malloc_aligned(n, a);
}
void *__wrap_malloc(size_t n) {
    g_count++;
    return __real_malloc(n);
}
void *__wrap_calloc(size_t a, size_t b) {
    g_count++;
    return __real_calloc(a, b);
}
void *__wrap_realloc(void *p, size_t n) {
    g_count++;
    return __real_realloc(p, n);
}
int __wrap_posix_memalign(void **p, size_t a, size_t n) {
    g_count++;
    return __real_posix_memalign(p, a, n);
}
void *__wrap_aligned_alloc(size_t a, size_t n) {
    g_count++;
    return __real_aligned_alloc(a, n);
}
}

#if !defined(__SANITIZE_ADDRESS__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void *operator new(size_t n) {
    g_count++;
    if (void *p = __real_malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void *operator new[](size_t n) { return operator new(n); }
void *operator new(size_t n, const std::nothrow_t &) noexcept {
    g_count++;
    return __real_malloc(n ? n : 1);
}
void *operator new[](size_t n, const std::nothrow_t &) noexcept {
    g_count++;
    return __real_malloc(n ? n : 1);
}
void operator delete(void *p) noexcept { free(p); }
void operator delete[](void *p) noexcept { free(p); }
void operator delete(void *p, size_t) noexcept { free(p); }
void operator delete[](void *p, size_t) noexcept { free(p); }
void *operator new(size_t n, std::align_val_t a) {
    g_count++;
    void *p = nullptr;
    const size_t al = static_cast<size_t>(a) < sizeof(void *) ? sizeof(void *) : static_cast<size_t>(a);
    if (__real_posix_memalign(&p, al, n ? n : 1) == 0) return p;
    throw std::bad_alloc();
}
void *operator new[](size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void *p, std::align_val_t) noexcept { free(p); }
void operator delete[](void *p, std::align_val_t) noexcept { free(p); }
void operator delete(void *p, size_t, std::align_val_t) noexcept { free(p); }
void operator delete[](void *p, size_t, std::align_val_t) noexcept { free(p); }
#endif
