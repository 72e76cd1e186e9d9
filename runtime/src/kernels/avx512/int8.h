// AVX-512 integer traits for kernels/common/gemm_q8.h: two 32-element activation blocks
// per zmm. The AVX-512 tables use it for Q4_K and Q6_K; Q8_0 and Q4_0 have their own
// kernels (kernels/avx512/q0.h). With SM_ISA_VNNI the byte dot products are vpdpbusd,
// else vpmaddubsw + vpmaddwd; both give lane i = the exact sum of bytes 4i..4i+3, so the
// two variants agree bit for bit. Include only between isa_avx512_begin.h and isa_end.h.
#pragma once
#include "kernels/avx512/vec.h"
#include "kernels/common/gemm_q8.h"
#include "quant/blocks.h"

#include <cstdint>

namespace sm::kern {
namespace {

struct IntAvx512 {
    using I = __m512i;
    using F = __m512;
    using SV = __m512; // per-lane weight scales
    static constexpr int BPV = 2;
    struct WV {
        I w, aw; // signed formats: the weights and |weights|; unsigned ones: w only
    };

    static F fzero() { return _mm512_setzero_ps(); }
    static float hsum(F v) { return VecAvx512::hsum(v); }
    static float h2f(uint16_t h) { return _cvtsh_ss(h); }
    static F halves(float a, float b) {
        return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(a)), _mm256_set1_ps(b), 1);
    }
    static I halves(__m256i a, __m256i b) { return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1); }
    static __m256i load256(const void *p) { return _mm256_loadu_si256(static_cast<const __m256i *>(p)); }

    template <QFmt Fm> static WV load(const uint8_t *row, int b, int nblk) {
        if constexpr (Fm == QFmt::Q8_0) {
            const auto *blk = reinterpret_cast<const quant::BlockQ8_0 *>(row) + b;
            const I w = halves(load256(blk[0].qs), nblk > 1 ? load256(blk[1].qs) : _mm256_setzero_si256());
            return {w, _mm512_abs_epi8(w)};
        } else if constexpr (Fm == QFmt::Q4_0) {
            // [lo nibbles b0 | hi nibbles b0 | lo b1 | hi b1]: the blocks' element order.
            const auto *blk = reinterpret_cast<const quant::BlockQ4_0 *>(row) + b;
            const __m128i t0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(blk[0].qs));
            const __m128i t1 = nblk > 1 ? _mm_loadu_si128(reinterpret_cast<const __m128i *>(blk[1].qs)) : _mm_setzero_si128();
            const I z = _mm512_srlv_epi64(halves(_mm256_broadcastsi128_si256(t0), _mm256_broadcastsi128_si256(t1)),
                                          _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4));
            return {_mm512_and_si512(z, _mm512_set1_epi8(15)), I()};
        } else if constexpr (Fm == QFmt::Q4_K) {
            // Sub-blocks 2g, 2g+1 = low, high nibbles of the group's 32 bytes.
            const auto *blk = reinterpret_cast<const quant::BlockQ4K *>(row) + b / 8;
            const I z = _mm512_broadcast_i64x4(load256(blk->qs + 32 * ((b % 8) / 2)));
            return {_mm512_and_si512(_mm512_srlv_epi64(z, _mm512_setr_epi64(0, 0, 0, 0, 4, 4, 4, 4)), _mm512_set1_epi8(15)), I()};
        } else {
            // Q6_K blocks qd, qd+1 (qd even) of half h: low 4 bits from the 64 bytes of ql
            // at 64 h (high nibbles for qd = 2), high 2 bits from qh at 32 h.
            const auto *blk = reinterpret_cast<const quant::BlockQ6K *>(row) + b / 8;
            const int bb = b % 8, h = bb / 4, qd = bb % 4;
            const I lo = _mm512_and_si512(
                _mm512_srl_epi16(_mm512_loadu_si512(blk->ql + 64 * h), _mm_cvtsi32_si128(4 * (qd >> 1))), _mm512_set1_epi8(15));
            I hi = _mm512_srlv_epi64(
                _mm512_broadcast_i64x4(load256(blk->qh + 32 * h)),
                _mm512_setr_epi64(2 * qd, 2 * qd, 2 * qd, 2 * qd, 2 * qd + 2, 2 * qd + 2, 2 * qd + 2, 2 * qd + 2));
            hi = _mm512_slli_epi16(_mm512_and_si512(hi, _mm512_set1_epi8(3)), 4);
            const I w = _mm512_sub_epi8(_mm512_or_si512(lo, hi), _mm512_set1_epi8(32));
            return {w, _mm512_abs_epi8(w)};
        }
    }

    // Lane scales: the block's d (or sub-block's d sc) over its lanes.
    template <QFmt Fm> static SV wscale(const uint8_t *row, int b, int nblk) {
        if constexpr (Fm == QFmt::Q8_0) {
            const auto *blk = reinterpret_cast<const quant::BlockQ8_0 *>(row) + b;
            return halves(h2f(blk[0].d), nblk > 1 ? h2f(blk[1].d) : 0.0f);
        } else if constexpr (Fm == QFmt::Q4_0) {
            const auto *blk = reinterpret_cast<const quant::BlockQ4_0 *>(row) + b;
            return halves(h2f(blk[0].d), nblk > 1 ? h2f(blk[1].d) : 0.0f);
        } else if constexpr (Fm == QFmt::Q4_K) {
            const auto *blk = reinterpret_cast<const quant::BlockQ4K *>(row) + b / 8;
            float d0, d1, m;
            q4k_scale(blk, b % 8, h2f, &d0, &m);
            q4k_scale(blk, b % 8 + 1, h2f, &d1, &m);
            return halves(d0, d1);
        } else {
            // Four 16-element sub-blocks, four lanes each.
            const auto *blk = reinterpret_cast<const quant::BlockQ6K *>(row) + b / 8;
            const float d = h2f(blk->d);
            const int8_t *sc = blk->scales + 2 * (b % 8);
            const __m128 s4 = _mm_setr_ps(d * static_cast<float>(sc[0]), d * static_cast<float>(sc[1]),
                                          d * static_cast<float>(sc[2]), d * static_cast<float>(sc[3]));
            return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                                         _mm512_castps128_ps512(s4));
        }
    }

    static I load_x(const uint8_t *qs) { return _mm512_loadu_si512(qs); }
    static F xscale(const float *d) { return halves(d[0], d[1]); }
    // Q4_0: -8 * block sum in lane 0 of each block, since sum (q - 8) x = sum q x - 8 sum x.
    template <QFmt Fm> static I corr(const int32_t *sum) {
        if constexpr (Fm == QFmt::Q4_0)
            return _mm512_maskz_mov_epi32(0x0101, halves(_mm256_set1_epi32(-8 * sum[0]), _mm256_set1_epi32(-8 * sum[1])));
        else return _mm512_setzero_si512();
    }

    static I dot_u8s8(I acc, I u, I s) {
#if defined(SM_ISA_VNNI)
        return _mm512_dpbusd_epi32(acc, u, s);
#else
        return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1)));
#endif
    }

    template <QFmt Fm> static F accum(F acc, const WV &w, I x, I corr, SV ws, F xs) {
        I p;
        if constexpr (Fm == QFmt::Q8_0 || Fm == QFmt::Q6_K) {
            // |w| * (x with w's sign): pairs fit maddubs' int16 (2 * 128 * 127 < 2^15).
            const I xs8 = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w.w), _mm512_setzero_si512(), x);
            p = dot_u8s8(_mm512_setzero_si512(), w.aw, xs8);
        } else {
            p = dot_u8s8(corr, w.w, x); // nibbles 0..15 are unsigned already
        }
        return _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(ws, xs), acc);
    }

    // Q4_K: acc -= (dmin m_s) * (d_x * sum_x) for the 8 sub-blocks s, in lanes 0..7.
    static F q4k_mins(F acc, const uint8_t *row, int sb, const float *dx, const int32_t *sx) {
        const auto *blk = reinterpret_cast<const quant::BlockQ4K *>(row) + sb;
        float dm[8], d;
        for (int s = 0; s < 8; s++) q4k_scale(blk, s, h2f, &d, &dm[s]);
        const __m256 fx = _mm256_mul_ps(_mm256_loadu_ps(dx),
                                        _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(sx))));
        const __m512 m = _mm512_insertf32x8(_mm512_setzero_ps(), _mm256_loadu_ps(dm), 0);
        return _mm512_fnmadd_ps(m, _mm512_insertf32x8(_mm512_setzero_ps(), fx, 0), acc);
    }
};

} // namespace
} // namespace sm::kern
