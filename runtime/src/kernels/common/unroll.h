// Register tiles (small arrays of vectors indexed by loop counters) must be fully
// unrolled for the compiler to keep them in registers instead of storing them to the
// stack on every iteration.
#pragma once
#if defined(__clang__)
#define SM_UNROLL _Pragma("unroll")
#else
#define SM_UNROLL _Pragma("GCC unroll 32")
#endif

// Integer vector adds are associative, so GCC rebalances a tile's accumulation chains
// into trees, computing every product of an unrolled block before adding any: with a few
// rows that is more live vectors than registers, and they spill. An empty asm that
// "changes" the accumulator pins the chain's order at no cost. (x: any SIMD register.)
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__aarch64__))
#if defined(__aarch64__)
#define SM_KEEP_CHAIN(v) __asm__("" : "+w"(v))
#else
#define SM_KEEP_CHAIN(v) __asm__("" : "+x"(v))
#endif
#else
#define SM_KEEP_CHAIN(v) ((void)0)
#endif
