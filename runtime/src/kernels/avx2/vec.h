// AVX2 + FMA + F16C float vector traits for the generic kernels in kernels/common/.
// Include only between isa_avx2_begin.h and isa_end.h.
#pragma once
#include <cstdint>
#include <cstring>

namespace sm::kern {
namespace {

struct VecAvx2 {
    using T = __m256;
    static constexpr int W = 8;

    static __m256i mask(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
    static T zero() { return _mm256_setzero_ps(); }
    static T set1(float f) { return _mm256_set1_ps(f); }
    static T loadu(const float *p) { return _mm256_loadu_ps(p); }
    // vmaskmovps never touches the masked-off memory.
    static T load_n(const float *p, int n) { return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask(n)); }
    static void storeu(float *p, T v) { _mm256_storeu_ps(p, v); }
    static void store_n(float *p, T v, int n) {
        if (n >= 8) _mm256_storeu_ps(p, v);
        else _mm256_maskstore_ps(p, mask(n), v);
    }
    static T bcast(const float *p) { return _mm256_broadcast_ss(p); }
    static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
    static T add(T a, T b) { return _mm256_add_ps(a, b); }
    static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
    static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
    static T div(T a, T b) { return _mm256_div_ps(a, b); }
    static T max(T a, T b) { return _mm256_max_ps(a, b); }
    static float hmax(T v) {
        __m128 b = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        b = _mm_max_ps(b, _mm_movehl_ps(b, b));
        b = _mm_max_ss(b, _mm_shuffle_ps(b, b, 1));
        return _mm_cvtss_f32(b);
    }
    // v in lanes lo..hi (clipped to the vector), fill elsewhere.
    static T keep(T v, int lo, int hi, T fill) {
        const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i m = _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(lo), iota),
                                              _mm256_cmpgt_epi32(_mm256_set1_epi32(hi + 1), iota));
        return _mm256_blendv_ps(fill, v, _mm256_castsi256_ps(m));
    }

    // Attention tuning (kernels/common/attention.h): interleaved chains over keys when
    // accumulating values, and the accumulator registers a micro-kernel may use.
    static constexpr int kAttnKeyChains = 2;
    static constexpr int kAccRegs = 8;

    // The one summation tree of this table: halves, then quarters, then pairs.
    static float hsum(T v) {
        __m128 b = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        b = _mm_add_ps(b, _mm_movehl_ps(b, b));
        b = _mm_add_ss(b, _mm_shuffle_ps(b, b, 1));
        return _mm_cvtss_f32(b);
    }

    static void transpose(T r[8]) {
        T a[8], b[8];
        for (int i = 0; i < 4; i++) {
            a[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
            a[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
        }
        for (int i = 0; i < 2; i++) {
            b[4 * i + 0] = _mm256_shuffle_ps(a[4 * i], a[4 * i + 2], 0x44);
            b[4 * i + 1] = _mm256_shuffle_ps(a[4 * i], a[4 * i + 2], 0xEE);
            b[4 * i + 2] = _mm256_shuffle_ps(a[4 * i + 1], a[4 * i + 3], 0x44);
            b[4 * i + 3] = _mm256_shuffle_ps(a[4 * i + 1], a[4 * i + 3], 0xEE);
        }
        // b[4i + c], 128-bit lane L: rows 4i..4i+3 at column 4L + c.
        for (int c = 0; c < 4; c++) {
            r[c] = _mm256_permute2f128_ps(b[c], b[4 + c], 0x20);
            r[4 + c] = _mm256_permute2f128_ps(b[c], b[4 + c], 0x31);
        }
    }

    // e^x within 2 ulp (Cephes' expf polynomial) on [-87.3, 88]; clamped outside, so
    // the smallest result is ~1e-38 rather than 0 and the largest ~1.7e38.
    static T exp(T x) {
        x = _mm256_min_ps(_mm256_max_ps(x, set1(-87.33654f)), set1(88.0f));
        const T n = _mm256_round_ps(_mm256_mul_ps(x, set1(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        T r = _mm256_fnmadd_ps(n, set1(0.693359375f), x);
        r = _mm256_fnmadd_ps(n, set1(-2.12194440e-4f), r);
        T p = set1(1.9875691500e-4f);
        p = _mm256_fmadd_ps(p, r, set1(1.3981999507e-3f));
        p = _mm256_fmadd_ps(p, r, set1(8.3334519073e-3f));
        p = _mm256_fmadd_ps(p, r, set1(4.1665795894e-2f));
        p = _mm256_fmadd_ps(p, r, set1(1.6666665459e-1f));
        p = _mm256_fmadd_ps(p, r, set1(5.0000001201e-1f));
        p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, set1(1.0f)));
        const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
        return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    }

    static T rope(T x, T cs) {
        const T sw = _mm256_permute_ps(x, 0xB1);
        return _mm256_fmaddsub_ps(x, _mm256_moveldup_ps(cs), _mm256_mul_ps(sw, _mm256_movehdup_ps(cs)));
    }

    // ---- weight element loaders (W elements, n <= W valid, rest zero)
    // One IEEE half to float, exactly (hardware conversion).
    static float h2f(uint16_t h) { return _cvtsh_ss(h); }
    static __m128i u16x8_n(const uint16_t *p, int n) {
        if (n >= 8) return _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
        uint16_t t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        memcpy(t, p, static_cast<size_t>(n) * 2);
        return _mm_loadu_si128(reinterpret_cast<const __m128i *>(t));
    }
    static T f16(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p))); }
    static T f16_n(const uint16_t *p, int n) { return _mm256_cvtph_ps(u16x8_n(p, n)); }
    static T bf16_n(const uint16_t *p, int n) {
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(u16x8_n(p, n)), 16));
    }
};

} // namespace
} // namespace sm::kern
