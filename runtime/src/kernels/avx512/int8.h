// AVX-512 integer traits for kernels/common/gemm_q8.h: two 32-element blocks per zmm.
// With SM_ISA_VNNI the byte dot products are vpdpbusd, else vpmaddubsw + vpmaddwd; both
// give lane i = the exact sum of bytes 4i..4i+3, so the two variants agree bit for bit.
// Include only between isa_avx512_begin.h and isa_end.h.
#pragma once
#include "kernels/avx512/vec.h"
#include "quant/blocks.h"

#include <cstdint>

namespace sm::kern {
namespace {

struct IntAvx512 {
    using I = __m512i;
    using F = __m512;
    static constexpr int BPV = 2;
    struct WV {
        I w, aw; // Q8_0: the weights and |weights|; Q4_0: w = nibbles 0..15
    };

    static F fzero() { return _mm512_setzero_ps(); }
    static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
    static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
    static F cvt(I v) { return _mm512_cvtepi32_ps(v); }
    static float hsum(F v) { return VecAvx512::hsum(v); }

    static I two(const uint8_t *p0, const uint8_t *p1, int nblk) {
        const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p0));
        const __m256i hi = nblk > 1 ? _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p1)) : _mm256_setzero_si256();
        return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    }
    static WV load_q8(const quant::BlockQ8_0 *blk, int nblk) {
        const I w = two(reinterpret_cast<const uint8_t *>(blk[0].qs), reinterpret_cast<const uint8_t *>(blk[1].qs), nblk);
        return {w, _mm512_abs_epi8(w)};
    }
    // [lo nibbles b0 | hi nibbles b0 | lo b1 | hi b1]: element order of the blocks.
    static WV load_q4(const quant::BlockQ4_0 *blk, int nblk) {
        const __m128i t0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(blk[0].qs));
        const __m128i t1 = nblk > 1 ? _mm_loadu_si128(reinterpret_cast<const __m128i *>(blk[1].qs)) : _mm_setzero_si128();
        I z = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_broadcastsi128_si256(t0)), _mm256_broadcastsi128_si256(t1), 1);
        z = _mm512_srlv_epi64(z, _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4));
        return {_mm512_and_si512(z, _mm512_set1_epi8(15)), _mm512_setzero_si512()};
    }
    // d of block 0 in lanes 0-7, of block 1 (or 0 when absent) in lanes 8-15.
    static F wscale(const uint16_t *d0, size_t stride, int nblk) {
        const float a = _cvtsh_ss(*d0);
        const float b = nblk > 1 ? _cvtsh_ss(*reinterpret_cast<const uint16_t *>(reinterpret_cast<const uint8_t *>(d0) + stride)) : 0.0f;
        return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(a)), _mm256_set1_ps(b), 1);
    }
    static I load_x(const uint8_t *qs) { return _mm512_loadu_si512(qs); }
    static F xscale(const float *d) {
        return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(d[0])), _mm256_set1_ps(d[1]), 1);
    }
    // -8 * block sum in lane 0 of each block: sum (q - 8) x = sum q x - 8 sum x.
    static I q4_corr(const int32_t *sum) {
        const I s = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(-8 * sum[0])), _mm256_set1_epi32(-8 * sum[1]), 1);
        return _mm512_maskz_mov_epi32(0x0101, s);
    }
    static I dot_u8s8(I acc, I u, I s) {
#if defined(SM_ISA_VNNI)
        return _mm512_dpbusd_epi32(acc, u, s);
#else
        return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1)));
#endif
    }
    // |w| * (x with w's sign): products fit maddubs' int16 pairs (2 * 128 * 127 < 2^15).
    static I dot_q8(const WV &w, I x) {
        const I xs = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w.w), _mm512_setzero_si512(), x);
        return dot_u8s8(_mm512_setzero_si512(), w.aw, xs);
    }
    static I dot_q4(const WV &w, I x, I corr) { return dot_u8s8(corr, w.w, x); }
};

} // namespace
} // namespace sm::kern
