// Register tiles (small arrays of vectors indexed by loop counters) must be fully
// unrolled for the compiler to keep them in registers instead of storing them to the
// stack on every iteration.
#pragma once
#if defined(__clang__)
#define SM_UNROLL _Pragma("unroll")
#else
#define SM_UNROLL _Pragma("GCC unroll 32")
#endif
