// AVX2 integer traits for kernels/common/gemm_q8.h: one 32-element block per ymm, byte
// products by vpmaddubsw + vpmaddwd (lane i = exact sum of bytes 4i..4i+3).
// Include only between isa_avx2_begin.h and isa_end.h.
#pragma once
#include "kernels/avx2/vec.h"
#include "quant/blocks.h"

#include <cstdint>

namespace sm::kern {
namespace {

struct IntAvx2 {
    using I = __m256i;
    using F = __m256;
    static constexpr int BPV = 1;
    struct WV {
        I w, aw; // Q8_0: the weights and |weights|; Q4_0: w = nibbles 0..15
    };

    static F fzero() { return _mm256_setzero_ps(); }
    static F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
    static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
    static F cvt(I v) { return _mm256_cvtepi32_ps(v); }
    static float hsum(F v) { return VecAvx2::hsum(v); }

    static WV load_q8(const quant::BlockQ8_0 *blk, int) {
        const I w = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(blk->qs));
        return {w, _mm256_abs_epi8(w)};
    }
    static WV load_q4(const quant::BlockQ4_0 *blk, int) {
        const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i *>(blk->qs));
        const __m128i m = _mm_set1_epi8(15);
        return {_mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(t, 4), m), _mm_and_si128(t, m)), _mm256_setzero_si256()};
    }
    static F wscale(const uint16_t *d, size_t, int) { return _mm256_set1_ps(_cvtsh_ss(*d)); }
    static I load_x(const uint8_t *qs) { return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(qs)); }
    static F xscale(const float *d) { return _mm256_set1_ps(d[0]); }
    static I q4_corr(const int32_t *sum) { return _mm256_setr_epi32(-8 * sum[0], 0, 0, 0, 0, 0, 0, 0); }
    static I madd(I u, I s) { return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)); }
    // |w| * (x with w's sign): pairs fit int16 (2 * 128 * 127 < 2^15).
    static I dot_q8(const WV &w, I x) { return madd(w.aw, _mm256_sign_epi8(x, w.w)); }
    static I dot_q4(const WV &w, I x, I corr) { return _mm256_add_epi32(madd(w.w, x), corr); }
};

} // namespace
} // namespace sm::kern
