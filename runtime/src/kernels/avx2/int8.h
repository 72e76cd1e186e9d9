// AVX2 integer traits for kernels/common/gemm_q8.h: one 32-element activation block per
// ymm, byte products by vpmaddubsw + vpmaddwd (lane i = exact sum of bytes 4i..4i+3).
// Include only between isa_avx2_begin.h and isa_end.h.
#pragma once
#include "kernels/avx2/vec.h"
#include "kernels/common/gemm_q8.h"
#include "quant/blocks.h"

#include <cstdint>

namespace sm::kern {
namespace {

struct IntAvx2 {
    using I = __m256i;
    using F = __m256;
    using SV = __m256;
    static constexpr int BPV = 1;
    struct WV {
        I w, aw; // signed formats: the weights and |weights|; unsigned ones: w only
    };

    static F fzero() { return _mm256_setzero_ps(); }
    static float hsum(F v) { return VecAvx2::hsum(v); }
    static float h2f(uint16_t h) { return _cvtsh_ss(h); }
    static I load256(const void *p) { return _mm256_loadu_si256(static_cast<const __m256i *>(p)); }

    template <QFmt Fm> static WV load(const uint8_t *row, int b, int) {
        if constexpr (Fm == QFmt::Q8_0) {
            const I w = load256(reinterpret_cast<const quant::BlockQ8_0 *>(row)[b].qs);
            return {w, _mm256_abs_epi8(w)};
        } else if constexpr (Fm == QFmt::Q4_0) {
            const __m128i t = _mm_loadu_si128(
                reinterpret_cast<const __m128i *>(reinterpret_cast<const quant::BlockQ4_0 *>(row)[b].qs));
            const __m128i m = _mm_set1_epi8(15);
            return {_mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(t, 4), m), _mm_and_si128(t, m)), I()};
        } else if constexpr (Fm == QFmt::Q4_K) {
            const auto *blk = reinterpret_cast<const quant::BlockQ4K *>(row) + b / 8;
            const int s = b % 8;
            const I t = load256(blk->qs + 32 * (s / 2));
            return {_mm256_and_si256(s & 1 ? _mm256_srli_epi16(t, 4) : t, _mm256_set1_epi8(15)), I()};
        } else {
            const auto *blk = reinterpret_cast<const quant::BlockQ6K *>(row) + b / 8;
            const int bb = b % 8, h = bb / 4, qd = bb % 4;
            const I lo = _mm256_and_si256(
                _mm256_srl_epi16(load256(blk->ql + 64 * h + 32 * (qd & 1)), _mm_cvtsi32_si128(4 * (qd >> 1))),
                _mm256_set1_epi8(15));
            const I hi = _mm256_and_si256(_mm256_srl_epi16(load256(blk->qh + 32 * h), _mm_cvtsi32_si128(2 * qd)),
                                          _mm256_set1_epi8(3));
            const I w = _mm256_sub_epi8(_mm256_or_si256(lo, _mm256_slli_epi16(hi, 4)), _mm256_set1_epi8(32));
            return {w, _mm256_abs_epi8(w)};
        }
    }

    template <QFmt Fm> static SV wscale(const uint8_t *row, int b, int) {
        if constexpr (Fm == QFmt::Q8_0) {
            return _mm256_set1_ps(h2f(reinterpret_cast<const quant::BlockQ8_0 *>(row)[b].d));
        } else if constexpr (Fm == QFmt::Q4_0) {
            return _mm256_set1_ps(h2f(reinterpret_cast<const quant::BlockQ4_0 *>(row)[b].d));
        } else if constexpr (Fm == QFmt::Q4_K) {
            float d, m;
            q4k_scale(reinterpret_cast<const quant::BlockQ4K *>(row) + b / 8, b % 8, h2f, &d, &m);
            return _mm256_set1_ps(d);
        } else {
            const auto *blk = reinterpret_cast<const quant::BlockQ6K *>(row) + b / 8;
            const float d = h2f(blk->d);
            const int8_t *sc = blk->scales + 2 * (b % 8);
            return _mm256_set_m128(_mm_set1_ps(d * static_cast<float>(sc[1])), _mm_set1_ps(d * static_cast<float>(sc[0])));
        }
    }

    static I load_x(const uint8_t *qs) { return load256(qs); }
    static F xscale(const float *d) { return _mm256_set1_ps(d[0]); }
    template <QFmt Fm> static I corr(const int32_t *sum) {
        if constexpr (Fm == QFmt::Q4_0) return _mm256_setr_epi32(-8 * sum[0], 0, 0, 0, 0, 0, 0, 0);
        else return _mm256_setzero_si256();
    }
    static I madd(I u, I s) { return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)); }

    template <QFmt Fm> static F accum(F acc, const WV &w, I x, I corr, SV ws, F xs) {
        I p;
        // Signed formats: |w| * (x with w's sign); pairs fit int16 (2 * 128 * 127 < 2^15).
        if constexpr (Fm == QFmt::Q8_0 || Fm == QFmt::Q6_K) p = madd(w.aw, _mm256_sign_epi8(x, w.w));
        else if constexpr (Fm == QFmt::Q4_0) p = _mm256_add_epi32(madd(w.w, x), corr);
        else p = madd(w.w, x);
        return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(ws, xs), acc);
    }

    static F q4k_mins(F acc, const uint8_t *row, int sb, const float *dx, const int32_t *sx) {
        const auto *blk = reinterpret_cast<const quant::BlockQ4K *>(row) + sb;
        float dm[8], d;
        for (int s = 0; s < 8; s++) q4k_scale(blk, s, h2f, &d, &dm[s]);
        const __m256 fx = _mm256_mul_ps(_mm256_loadu_ps(dx), _mm256_cvtepi32_ps(load256(sx)));
        return _mm256_fnmadd_ps(_mm256_loadu_ps(dm), fx, acc);
    }
};

} // namespace
} // namespace sm::kern
