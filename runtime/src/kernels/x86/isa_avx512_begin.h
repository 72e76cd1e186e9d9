// Compiles the functions that follow for AVX-512 F/BW/DQ/VL (+ AVX2, FMA, F16C) and,
// with SM_ISA_VNNI defined first, AVX-512 VNNI too. Pair with isa_end.h; same rules as
// isa_avx2_begin.h.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 headers trip its own uninitialized-value warnings (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(SM_ISA_VNNI)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni"))), \
                             apply_to = function)
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")
#endif
#else
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl")
#endif
#endif
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
