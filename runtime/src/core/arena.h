// The runtime's one block of memory: the whole budget, taken once at creation from the
// host allocator (mimalloc by default). Models and sessions carve large pieces out of it;
// freed pieces are reused. Bookkeeping lives in a fixed table, so the arena itself never
// touches the heap.
#pragma once
#include "smallmind/smallmind.h"
#include <cstddef>
#include <cstdint>

namespace sm {

class Arena {
public:
    static constexpr int kMaxBlocks = 512;

    // Takes `budget` bytes from the allocator (nullptr: mimalloc). false on failure.
    bool init(size_t budget, const sm_allocator *allocator);
    void release();

    // First fit, 64-byte aligned, every page touched (no page faults after load); nullptr
    // when no gap is large enough.
    void *alloc(size_t bytes);
    void free(void *p);

    size_t budget() const { return budget_; }
    size_t used() const { return used_; }
    size_t peak() const { return peak_; }
    size_t largest_free() const;

private:
    void advise_huge_pages();
    static void commit(uint8_t *p, size_t bytes);
    struct Block {
        size_t offset, size;
    }; // sorted by offset
    uint8_t *base_ = nullptr;
    size_t budget_ = 0, used_ = 0, peak_ = 0;
    Block blocks_[kMaxBlocks];
    int n_blocks_ = 0;
    sm_allocator allocator_ = {};
    bool own_mimalloc_ = false;
};

} // namespace sm
