// Register tiles (small arrays of vectors indexed by loop counters) must be fully
// unrolled for the compiler to keep them in registers instead of storing them to the
// stack on every iteration.
#pragma once
#if defined(__clang__)
#define SM_UNROLL _Pragma("unroll")
#else
#define SM_UNROLL _Pragma("GCC unroll 32")
#endif

// Loops whose trip count is not known at compile time, unrolled twice: the loop's own
// counter and pointer updates otherwise cost as many instructions as its FMAs.
#if defined(__clang__)
#define SM_UNROLL_2 _Pragma("unroll 2")
#else
#define SM_UNROLL_2 _Pragma("GCC unroll 2")
#endif

// An empty asm that "changes" v, so v must sit in a register there and no arithmetic moves
// across it (x: any SIMD register). Two uses:
//  - SM_KEEP_CHAIN: integer vector adds are associative, so GCC rebalances a tile's
//    accumulation chains into trees, computing every product of an unrolled block before
//    adding any: with a few rows that is more live vectors than registers, and they spill.
//    Pinning the accumulator keeps the chain's order at no cost.
//  - SM_IN_REGISTER: a loaded vector that several FMAs read (a key shared by the rows of a
//    tile) is loaded once, instead of folded into each FMA as a memory operand, which
//    multiplies the loads.
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__aarch64__))
#if defined(__aarch64__)
#define SM_IN_REGISTER(v) __asm__("" : "+w"(v))
#else
#define SM_IN_REGISTER(v) __asm__("" : "+x"(v))
#endif
#else
#define SM_IN_REGISTER(v) ((void)0)
#endif
#define SM_KEEP_CHAIN(v) SM_IN_REGISTER(v)
