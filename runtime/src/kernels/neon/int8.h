// NEON integer traits for kernels/common/gemm_q8.h: one 32-element activation block per
// step as two int8x16 halves. With SM_NEON_DOTPROD the byte products are sdot; otherwise
// smull + pairwise adds, which give the same lanes (lane i = exact sum of bytes
// 4i..4i+3 of a half), so the two tables agree bit for bit.
#pragma once
#include "kernels/common/gemm_q8.h"
#include "kernels/neon/vec.h"
#include "quant/blocks.h"

#include <cstdint>

namespace sm::kern {
namespace {

struct IntNeon {
    using F = float32x4_t;
    static constexpr int BPV = 1;
    struct WV {
        int8x16_t lo, hi; // elements 0-15 and 16-31 (Q4_0 already minus 8)
    };
    struct SV {
        float32x4_t lo, hi; // scales of the two halves (differ only for Q6_K)
    };
    struct X {
        int8x16_t lo, hi;
    };

    static F fzero() { return vdupq_n_f32(0.0f); }
    static float hsum(F v) { return VecNeon::hsum(v); }
    static float h2f(uint16_t h) { return VecNeon::h2f(h); }

    template <QFmt Fm> static WV load(const uint8_t *row, int b, int) {
        if constexpr (Fm == QFmt::Q8_0) {
            const int8_t *q = reinterpret_cast<const quant::BlockQ8_0 *>(row)[b].qs;
            return {vld1q_s8(q), vld1q_s8(q + 16)};
        } else if constexpr (Fm == QFmt::Q4_0) {
            const uint8x16_t t = vld1q_u8(reinterpret_cast<const quant::BlockQ4_0 *>(row)[b].qs);
            const int8x16_t eight = vdupq_n_s8(8);
            return {vsubq_s8(vreinterpretq_s8_u8(vandq_u8(t, vdupq_n_u8(15))), eight),
                    vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(t, 4)), eight)};
        } else if constexpr (Fm == QFmt::Q4_K) {
            const auto *blk = reinterpret_cast<const quant::BlockQ4K *>(row) + b / 8;
            const int s = b % 8;
            const uint8_t *q = blk->qs + 32 * (s / 2);
            const int8x16_t sh = vdupq_n_s8(static_cast<int8_t>(-4 * (s & 1)));
            const uint8x16_t m = vdupq_n_u8(15);
            return {vreinterpretq_s8_u8(vandq_u8(vshlq_u8(vld1q_u8(q), sh), m)),
                    vreinterpretq_s8_u8(vandq_u8(vshlq_u8(vld1q_u8(q + 16), sh), m))};
        } else {
            const auto *blk = reinterpret_cast<const quant::BlockQ6K *>(row) + b / 8;
            const int bb = b % 8, h = bb / 4, qd = bb % 4;
            const uint8_t *ql = blk->ql + 64 * h + 32 * (qd & 1), *qh = blk->qh + 32 * h;
            const int8x16_t sl = vdupq_n_s8(static_cast<int8_t>(-4 * (qd >> 1))), shh = vdupq_n_s8(static_cast<int8_t>(-2 * qd));
            auto half = [&](int o) {
                const uint8x16_t lo = vandq_u8(vshlq_u8(vld1q_u8(ql + o), sl), vdupq_n_u8(15));
                const uint8x16_t hi = vshlq_n_u8(vandq_u8(vshlq_u8(vld1q_u8(qh + o), shh), vdupq_n_u8(3)), 4);
                return vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, hi)), vdupq_n_s8(32));
            };
            return {half(0), half(16)};
        }
    }

    template <QFmt Fm> static SV wscale(const uint8_t *row, int b, int) {
        if constexpr (Fm == QFmt::Q8_0) {
            const F d = vdupq_n_f32(h2f(reinterpret_cast<const quant::BlockQ8_0 *>(row)[b].d));
            return {d, d};
        } else if constexpr (Fm == QFmt::Q4_0) {
            const F d = vdupq_n_f32(h2f(reinterpret_cast<const quant::BlockQ4_0 *>(row)[b].d));
            return {d, d};
        } else if constexpr (Fm == QFmt::Q4_K) {
            float d, m;
            q4k_scale(reinterpret_cast<const quant::BlockQ4K *>(row) + b / 8, b % 8, h2f, &d, &m);
            return {vdupq_n_f32(d), vdupq_n_f32(d)};
        } else {
            const auto *blk = reinterpret_cast<const quant::BlockQ6K *>(row) + b / 8;
            const float d = h2f(blk->d);
            const int8_t *sc = blk->scales + 2 * (b % 8);
            return {vdupq_n_f32(d * static_cast<float>(sc[0])), vdupq_n_f32(d * static_cast<float>(sc[1]))};
        }
    }

    static X load_x(const uint8_t *qs) {
        const int8_t *p = reinterpret_cast<const int8_t *>(qs);
        return {vld1q_s8(p), vld1q_s8(p + 16)};
    }
    static F xscale(const float *d) { return vdupq_n_f32(d[0]); }
    template <QFmt> static int corr(const int32_t *) { return 0; } // Q4_0 weights are signed already

    static int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(SM_NEON_DOTPROD)
        return vdotq_s32(acc, a, b);
#else
        const int16x8_t p = vpaddq_s16(vmull_s8(vget_low_s8(a), vget_low_s8(b)), vmull_high_s8(a, b));
        return vaddq_s32(acc, vpaddlq_s16(p));
#endif
    }

    template <QFmt Fm> static F accum(F acc, const WV &w, const X &x, int, const SV &ws, F xs) {
        const int32x4_t z = vdupq_n_s32(0);
        if constexpr (Fm == QFmt::Q6_K) { // the halves are separate 16-element sub-blocks
            acc = vfmaq_f32(acc, vcvtq_f32_s32(dot16(z, w.lo, x.lo)), vmulq_f32(ws.lo, xs));
            return vfmaq_f32(acc, vcvtq_f32_s32(dot16(z, w.hi, x.hi)), vmulq_f32(ws.hi, xs));
        } else {
            return vfmaq_f32(acc, vcvtq_f32_s32(dot16(dot16(z, w.lo, x.lo), w.hi, x.hi)), vmulq_f32(ws.lo, xs));
        }
    }

    static F q4k_mins(F acc, const uint8_t *row, int sb, const float *dx, const int32_t *sx) {
        const auto *blk = reinterpret_cast<const quant::BlockQ4K *>(row) + sb;
        float dm[8], d;
        for (int s = 0; s < 8; s++) q4k_scale(blk, s, h2f, &d, &dm[s]);
        acc = vfmsq_f32(acc, vld1q_f32(dm), vmulq_f32(vld1q_f32(dx), vcvtq_f32_s32(vld1q_s32(sx))));
        return vfmsq_f32(acc, vld1q_f32(dm + 4), vmulq_f32(vld1q_f32(dx + 4), vcvtq_f32_s32(vld1q_s32(sx + 4))));
    }
};

} // namespace
} // namespace sm::kern
