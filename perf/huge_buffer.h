// A zeroed buffer on 2 MiB pages where the OS gives them on request, as the runtime's
// arena asks for (core/arena.cpp): benchmarks then measure on the kind of pages the
// weights live on. (On 4 KiB pages, software prefetches that miss the TLB may be dropped,
// and streams from DRAM run slower than the runtime's.)
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace sm::perf {

class HugeBuffer {
public:
    explicit HugeBuffer(size_t bytes) : size_(bytes) {
        if (bytes == 0) return;
        constexpr size_t kHuge = size_t(2) << 20;
        const size_t alloc = (bytes + kHuge - 1) / kHuge * kHuge;
        p_ = static_cast<uint8_t *>(aligned_alloc(kHuge, alloc));
        if (!p_) {
            fprintf(stderr, "error: cannot allocate %zu bytes for a benchmark buffer\n", alloc);
            exit(1);
        }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        madvise(p_, alloc, MADV_HUGEPAGE);
#endif
        memset(p_, 0, alloc);
    }
    ~HugeBuffer() { free(p_); }
    HugeBuffer(const HugeBuffer &) = delete;
    HugeBuffer &operator=(const HugeBuffer &) = delete;
    uint8_t *data() const { return p_; }
    size_t size() const { return size_; }

private:
    uint8_t *p_ = nullptr;
    size_t size_ = 0;
};

} // namespace sm::perf
