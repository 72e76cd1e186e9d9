// AVX-512 float vector traits for the generic kernels in kernels/common/.
// Include only between isa_avx512_begin.h and isa_end.h.
#pragma once
#include <cstdint>

namespace sm::kern {
namespace {

struct VecAvx512 {
    using T = __m512;
    static constexpr int W = 16;

    static __mmask16 mask(int n) { return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1); }
    static T zero() { return _mm512_setzero_ps(); }
    static T set1(float f) { return _mm512_set1_ps(f); }
    static T loadu(const float *p) { return _mm512_loadu_ps(p); }
    // First n lanes from p (never touching memory past them), the rest zero.
    static T load_n(const float *p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
    static void storeu(float *p, T v) { _mm512_storeu_ps(p, v); }
    static void store_n(float *p, T v, int n) { _mm512_mask_storeu_ps(p, mask(n), v); }
    static T bcast(const float *p) { return _mm512_set1_ps(*p); }
    static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
    static T add(T a, T b) { return _mm512_add_ps(a, b); }
    static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
    static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
    static T div(T a, T b) { return _mm512_div_ps(a, b); }
    static T max(T a, T b) { return _mm512_max_ps(a, b); }
    static float hmax(T v) { return _mm512_reduce_max_ps(v); }
    // v in lanes lo..hi (clipped to the vector), fill elsewhere.
    static T keep(T v, int lo, int hi, T fill) {
        lo = lo < 0 ? 0 : lo;
        hi = hi > W - 1 ? W - 1 : hi;
        const unsigned m = hi < lo ? 0u : ((2u << hi) - 1u) & ~((1u << lo) - 1u);
        return _mm512_mask_mov_ps(fill, static_cast<__mmask16>(m), v);
    }

    // Attention tuning (kernels/common/attention.h): interleaved chains over keys when
    // accumulating values, and the accumulator registers a micro-kernel may use.
    static constexpr int kAttnKeyChains = 4;
    static constexpr int kAccRegs = 24;

    // The one summation tree of this table: halves, then quarters, then pairs.
    static float hsum(T v) {
        __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
        __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        b = _mm_add_ps(b, _mm_movehl_ps(b, b));
        b = _mm_add_ss(b, _mm_shuffle_ps(b, b, 1));
        return _mm_cvtss_f32(b);
    }

    // r[i][j] -> r[j][i] for a 16 x 16 block.
    static void transpose(T r[16]) {
        T a[16], b[16];
        for (int i = 0; i < 8; i++) {
            a[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
            a[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
        }
        for (int i = 0; i < 4; i++) {
            b[4 * i + 0] = _mm512_shuffle_ps(a[4 * i], a[4 * i + 2], 0x44);
            b[4 * i + 1] = _mm512_shuffle_ps(a[4 * i], a[4 * i + 2], 0xEE);
            b[4 * i + 2] = _mm512_shuffle_ps(a[4 * i + 1], a[4 * i + 3], 0x44);
            b[4 * i + 3] = _mm512_shuffle_ps(a[4 * i + 1], a[4 * i + 3], 0xEE);
        }
        // b[4i + c], 128-bit lane L: rows 4i..4i+3 at column 4L + c.
        for (int c = 0; c < 4; c++) {
            T x = _mm512_shuffle_f32x4(b[c], b[4 + c], 0x88), y = _mm512_shuffle_f32x4(b[c], b[4 + c], 0xDD);
            T z = _mm512_shuffle_f32x4(b[8 + c], b[12 + c], 0x88), w = _mm512_shuffle_f32x4(b[8 + c], b[12 + c], 0xDD);
            r[c] = _mm512_shuffle_f32x4(x, z, 0x88);
            r[8 + c] = _mm512_shuffle_f32x4(x, z, 0xDD);
            r[4 + c] = _mm512_shuffle_f32x4(y, w, 0x88);
            r[12 + c] = _mm512_shuffle_f32x4(y, w, 0xDD);
        }
    }

    // e^x within 2 ulp (Cephes' expf polynomial); denormal or 0 far below, inf above 89.
    static T exp(T x) {
        x = _mm512_min_ps(_mm512_max_ps(x, set1(-104.0f)), set1(89.0f));
        const T n = _mm512_roundscale_ps(_mm512_mul_ps(x, set1(1.44269504088896341f)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        T r = _mm512_fnmadd_ps(n, set1(0.693359375f), x);
        r = _mm512_fnmadd_ps(n, set1(-2.12194440e-4f), r);
        T p = set1(1.9875691500e-4f);
        p = _mm512_fmadd_ps(p, r, set1(1.3981999507e-3f));
        p = _mm512_fmadd_ps(p, r, set1(8.3334519073e-3f));
        p = _mm512_fmadd_ps(p, r, set1(4.1665795894e-2f));
        p = _mm512_fmadd_ps(p, r, set1(1.6666665459e-1f));
        p = _mm512_fmadd_ps(p, r, set1(5.0000001201e-1f));
        p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, set1(1.0f)));
        return _mm512_scalef_ps(p, n);
    }

    // Pairs (a, b) rotated by (c, s) pairs: (a c - b s, a s + b c).
    static T rope(T x, T cs) {
        const T sw = _mm512_permute_ps(x, 0xB1);
        return _mm512_fmaddsub_ps(x, _mm512_moveldup_ps(cs), _mm512_mul_ps(sw, _mm512_movehdup_ps(cs)));
    }

    // ---- weight element loaders (W elements, n <= W valid, rest zero)
    // One IEEE half to float, exactly (hardware conversion).
    static float h2f(uint16_t h) { return _cvtsh_ss(h); }
    static T f16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p))); }
    static T f16_n(const uint16_t *p, int n) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask(n), p)); }
    static T bf16_n(const uint16_t *p, int n) {
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask(n), p)), 16));
    }
};

} // namespace
} // namespace sm::kern
