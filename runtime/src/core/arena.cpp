#include "core/arena.h"
#include "core/bump.h"

#include <cstring>
#include <mimalloc.h>

// In ASan builds, the parts of the block not handed out are poisoned: a model or session
// used after its memory went back to the arena is an ASan report, not a silent corruption.
#if defined(__SANITIZE_ADDRESS__)
#define SM_ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SM_ARENA_ASAN 1
#endif
#endif
#if defined(SM_ARENA_ASAN)
#include <sanitizer/asan_interface.h>
#define SM_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define SM_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SM_POISON(p, n) ((void)(p), (void)(n))
#define SM_UNPOISON(p, n) ((void)(p), (void)(n))
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace sm {

bool Arena::init(size_t budget, const sm_allocator *allocator) {
    budget_ = align_up(budget, kCacheLine);
    if (allocator && allocator->alloc) {
        allocator_ = *allocator;
        base_ = static_cast<uint8_t *>(allocator_.alloc(allocator_.user, budget_, kCacheLine));
    } else {
        own_mimalloc_ = true;
        base_ = static_cast<uint8_t *>(mi_malloc_aligned(budget_, kCacheLine));
        advise_huge_pages();
    }
    n_blocks_ = 0;
    used_ = peak_ = 0;
    if (base_) SM_POISON(base_, budget_);
    return base_ != nullptr;
}

// Decode streams every weight once per token: with 2 MiB pages the TLB covers them
// (transparent huge pages are often enabled only on request). Only our own block: the
// host's memory keeps the host's policy. A hint; failure changes nothing.
void Arena::advise_huge_pages() {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    constexpr uintptr_t kHuge = uintptr_t(2) << 20;
    const uintptr_t b = (reinterpret_cast<uintptr_t>(base_) + kHuge - 1) & ~(kHuge - 1);
    const uintptr_t e = (reinterpret_cast<uintptr_t>(base_) + budget_) & ~(kHuge - 1);
    if (base_ && e > b) madvise(reinterpret_cast<void *>(b), e - b, MADV_HUGEPAGE);
#endif
}

void Arena::release() {
    if (!base_) return;
    SM_UNPOISON(base_, budget_); // the allocator may write its own bookkeeping there
    if (own_mimalloc_) mi_free(base_);
    else if (allocator_.free) allocator_.free(allocator_.user, base_);
    base_ = nullptr;
}

void *Arena::alloc(size_t bytes) {
    if (!base_ || n_blocks_ == kMaxBlocks) return nullptr;
    bytes = align_up(bytes ? bytes : 1, kCacheLine);
    size_t at = 0;
    int i = 0;
    for (; i < n_blocks_; i++) {
        if (blocks_[i].offset - at >= bytes) break;
        at = blocks_[i].offset + blocks_[i].size;
    }
    if (i == n_blocks_ && budget_ - at < bytes) return nullptr;
    memmove(&blocks_[i + 1], &blocks_[i], sizeof(Block) * (n_blocks_ - i));
    blocks_[i] = {at, bytes};
    n_blocks_++;
    used_ += bytes;
    if (used_ > peak_) peak_ = used_;
    SM_UNPOISON(base_ + at, bytes);
    commit(base_ + at, bytes);
    return base_ + at;
}

// The OS maps a page on first touch, and zeroing it (a 2 MiB huge page: about 0.1-0.2
// ms) would land in whichever frame's step first writes there: the KV cache fills a page
// at a time for the whole first context. Touch every page now, at load, instead. Zeros
// only, so memory that was fresh stays as the OS gave it.
void Arena::commit(uint8_t *p, size_t bytes) {
    constexpr uintptr_t kPage = 4096;
    const uintptr_t b = reinterpret_cast<uintptr_t>(p), e = b + bytes;
    for (uintptr_t a = b; a < e; a = (a + kPage) & ~(kPage - 1)) {
        volatile uint8_t *q = reinterpret_cast<uint8_t *>(a);
        *q = 0;
    }
}

void Arena::free(void *p) {
    if (!p) return;
    size_t off = static_cast<size_t>(static_cast<uint8_t *>(p) - base_);
    for (int i = 0; i < n_blocks_; i++) {
        if (blocks_[i].offset == off) {
            used_ -= blocks_[i].size;
            SM_POISON(base_ + off, blocks_[i].size);
            memmove(&blocks_[i], &blocks_[i + 1], sizeof(Block) * (n_blocks_ - i - 1));
            n_blocks_--;
            return;
        }
    }
}

size_t Arena::largest_free() const {
    size_t at = 0, best = 0;
    for (int i = 0; i < n_blocks_; i++) {
        if (blocks_[i].offset - at > best) best = blocks_[i].offset - at;
        at = blocks_[i].offset + blocks_[i].size;
    }
    if (budget_ - at > best) best = budget_ - at;
    return best;
}

} // namespace sm
