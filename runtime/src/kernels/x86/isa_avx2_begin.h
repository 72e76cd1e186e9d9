// Compiles the functions that follow for AVX2 + FMA + F16C, whatever the command line
// says (the build has no -march). Pair with isa_end.h. Code between the two must only
// run after cpu.h says the CPU has these instructions, and must have internal linkage or
// an ISA-named namespace so the linker never merges it with a generic copy.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 headers trip its own uninitialized-value warnings (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif
