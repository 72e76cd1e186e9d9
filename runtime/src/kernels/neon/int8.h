// NEON integer traits for kernels/common/gemm_q8.h: one 32-element block per pair of
// int8x16. With SM_NEON_DOTPROD the byte products are sdot; otherwise smull + pairwise
// adds, which give the same lanes (lane i = exact sum of bytes 4i..4i+3 of both halves),
// so the two tables agree bit for bit.
#pragma once
#include "kernels/neon/vec.h"
#include "quant/blocks.h"

#include <cstdint>

namespace sm::kern {
namespace {

struct IntNeon {
    using I = int8x16x2_t;
    using F = float32x4_t;
    static constexpr int BPV = 1;
    struct WV {
        int8x16_t lo, hi; // elements 0-15 and 16-31, signed (Q4_0 already minus 8)
    };

    static F fzero() { return vdupq_n_f32(0.0f); }
    static F fma(F a, F b, F c) { return vfmaq_f32(c, a, b); }
    static F mul(F a, F b) { return vmulq_f32(a, b); }
    static F cvt(int32x4_t v) { return vcvtq_f32_s32(v); }
    static float hsum(F v) { return VecNeon::hsum(v); }

    static WV load_q8(const quant::BlockQ8_0 *blk, int) { return {vld1q_s8(blk->qs), vld1q_s8(blk->qs + 16)}; }
    static WV load_q4(const quant::BlockQ4_0 *blk, int) {
        const uint8x16_t t = vld1q_u8(blk->qs);
        const int8x16_t eight = vdupq_n_s8(8);
        return {vsubq_s8(vreinterpretq_s8_u8(vandq_u8(t, vdupq_n_u8(15))), eight),
                vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(t, 4)), eight)};
    }
    static F wscale(const uint16_t *d, size_t, int) {
        return vdupq_n_f32(vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(*d))), 0));
    }
    static I load_x(const uint8_t *qs) {
        const int8_t *p = reinterpret_cast<const int8_t *>(qs);
        return {{vld1q_s8(p), vld1q_s8(p + 16)}};
    }
    static F xscale(const float *d) { return vdupq_n_f32(d[0]); }
    static int32x4_t q4_corr(const int32_t *) { return vdupq_n_s32(0); } // weights are signed already

    static int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(SM_NEON_DOTPROD)
        return vdotq_s32(acc, a, b);
#else
        const int16x8_t p = vpaddq_s16(vmull_s8(vget_low_s8(a), vget_low_s8(b)), vmull_high_s8(a, b));
        return vaddq_s32(acc, vpaddlq_s16(p));
#endif
    }
    static int32x4_t dot_q8(const WV &w, const I &x) { return dot16(dot16(vdupq_n_s32(0), w.lo, x.val[0]), w.hi, x.val[1]); }
    static int32x4_t dot_q4(const WV &w, const I &x, int32x4_t) { return dot_q8(w, x); }
};

} // namespace
} // namespace sm::kern
