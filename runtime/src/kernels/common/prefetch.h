// Software prefetch at base + offset into L2. The address may lie past the end of the
// allocation (prefetches run ahead of the reads and never fault), so it is formed as an
// integer: pointer arithmetic may not leave the object it points into.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sm::kern {

inline void prefetch_ahead(const void *base, size_t offset) {
    __builtin_prefetch(reinterpret_cast<const void *>(reinterpret_cast<uintptr_t>(base) + offset), 0, 2);
}

} // namespace sm::kern
