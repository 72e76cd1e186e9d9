// AArch64 Advanced SIMD float vector traits for the generic kernels in kernels/common/.
// NEON is baseline on AArch64: no target region needed.
#pragma once
#include <arm_neon.h>
#include <cstdint>
#include <cstring>

namespace sm::kern {
namespace {

struct VecNeon {
    using T = float32x4_t;
    static constexpr int W = 4;

    static T zero() { return vdupq_n_f32(0.0f); }
    static T set1(float f) { return vdupq_n_f32(f); }
    static T loadu(const float *p) { return vld1q_f32(p); }
    static T load_n(const float *p, int n) {
        if (n >= 4) return vld1q_f32(p);
        float t[4] = {0, 0, 0, 0};
        memcpy(t, p, static_cast<size_t>(n) * 4);
        return vld1q_f32(t);
    }
    static void storeu(float *p, T v) { vst1q_f32(p, v); }
    static void store_n(float *p, T v, int n) {
        if (n >= 4) return vst1q_f32(p, v);
        float t[4];
        vst1q_f32(t, v);
        memcpy(p, t, static_cast<size_t>(n) * 4);
    }
    static T bcast(const float *p) { return vld1q_dup_f32(p); }
    static T fma(T a, T b, T c) { return vfmaq_f32(c, a, b); }
    static T add(T a, T b) { return vaddq_f32(a, b); }
    static T sub(T a, T b) { return vsubq_f32(a, b); }
    static T mul(T a, T b) { return vmulq_f32(a, b); }
    static T div(T a, T b) { return vdivq_f32(a, b); }
    static T max(T a, T b) { return vmaxq_f32(a, b); }
    static float hmax(T v) { return vmaxvq_f32(v); }
    // v in lanes lo..hi (clipped to the vector), fill elsewhere.
    static T keep(T v, int lo, int hi, T fill) {
        const int32_t i4[4] = {0, 1, 2, 3};
        const int32x4_t iota = vld1q_s32(i4);
        const uint32x4_t m = vandq_u32(vcgeq_s32(iota, vdupq_n_s32(lo)), vcleq_s32(iota, vdupq_n_s32(hi)));
        return vbslq_f32(m, v, fill);
    }

    // Attention tuning (kernels/common/attention.h): interleaved chains over keys when
    // accumulating values, and the accumulator registers a micro-kernel may use.
    static constexpr int kAttnKeyChains = 2;
    static constexpr int kAccRegs = 16;

    // The one summation tree of this table: (l0 + l2) + (l1 + l3).
    static float hsum(T v) {
        const float32x2_t h = vadd_f32(vget_low_f32(v), vget_high_f32(v));
        return vget_lane_f32(h, 0) + vget_lane_f32(h, 1);
    }

    static void transpose(T r[4]) {
        const float32x4_t t0 = vtrn1q_f32(r[0], r[1]), t1 = vtrn2q_f32(r[0], r[1]);
        const float32x4_t t2 = vtrn1q_f32(r[2], r[3]), t3 = vtrn2q_f32(r[2], r[3]);
        r[0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
        r[1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
        r[2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
        r[3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
    }

    // e^x within 2 ulp (Cephes' expf polynomial) on [-87.3, 88]; clamped outside.
    static T exp(T x) {
        x = vminq_f32(vmaxq_f32(x, set1(-87.33654f)), set1(88.0f));
        const T n = vrndnq_f32(vmulq_f32(x, set1(1.44269504088896341f)));
        T r = vfmsq_f32(x, n, set1(0.693359375f));
        r = vfmsq_f32(r, n, set1(-2.12194440e-4f));
        T p = set1(1.9875691500e-4f);
        p = vfmaq_f32(set1(1.3981999507e-3f), p, r);
        p = vfmaq_f32(set1(8.3334519073e-3f), p, r);
        p = vfmaq_f32(set1(4.1665795894e-2f), p, r);
        p = vfmaq_f32(set1(1.6666665459e-1f), p, r);
        p = vfmaq_f32(set1(5.0000001201e-1f), p, r);
        p = vfmaq_f32(vaddq_f32(r, set1(1.0f)), p, vmulq_f32(r, r));
        const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
        return vmulq_f32(p, vreinterpretq_f32_s32(e));
    }

    static T rope(T x, T cs) {
        const T c = vtrn1q_f32(cs, cs), s = vtrn2q_f32(cs, cs);
        const float sgn[4] = {-1.0f, 1.0f, -1.0f, 1.0f};
        const T sw = vmulq_f32(vrev64q_f32(x), vld1q_f32(sgn)); // (-b, a): exact sign flips
        return vfmaq_f32(vmulq_f32(x, c), sw, s);
    }

    // ---- weight element loaders (W elements, n <= W valid, rest zero)
    // One IEEE half to float, exactly (hardware conversion).
    static float h2f(uint16_t h) { return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0); }
    static uint16x4_t u16x4_n(const uint16_t *p, int n) {
        uint16_t t[4] = {0, 0, 0, 0};
        memcpy(t, p, static_cast<size_t>(n < 4 ? n : 4) * 2);
        return vld1_u16(t);
    }
    static T f16(const uint16_t *p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
    static T f16_n(const uint16_t *p, int n) { return vcvt_f32_f16(vreinterpret_f16_u16(u16x4_n(p, n))); }
    static T bf16_n(const uint16_t *p, int n) { return vreinterpretq_f32_u32(vshll_n_u16(u16x4_n(p, n), 16)); }
};

} // namespace
} // namespace sm::kern
