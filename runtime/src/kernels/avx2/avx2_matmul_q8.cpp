// AVX2 products of quantized weights with 8-bit activations (Q8_0 / Q4_0 in exact block
// sums, kernels/avx2/q0.h; Q4_K / Q6_K by the generic tiles), and the activation quantizer.
#if defined(__x86_64__)
#include "kernels/x86/isa_avx2_begin.h"
#include "kernels/avx2/api.h"
#include "kernels/avx2/int8.h"
#include "kernels/avx2/q0.h"
#include "kernels/common/gemm_q8.h"

namespace sm::kern::avx2 {

void matmul_q8(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    if (w.type == TensorType::Q8_0) return q0_matmul<true>(w, act, arb, M, y, ldy, n0, n1);
    if (w.type == TensorType::Q4_0) return q0_matmul<false>(w, act, arb, M, y, ldy, n0, n1);
    gemm_q8<IntAvx2, 2, 4>(w, act, arb, M, y, ldy, n0, n1);
}

// quant::quantize_act_q8, vectorised: the same max, division and round-half-even
// (vcvtps2dq under the default rounding mode), hence the same bytes.
void prepare_act_q8(const float *x, int64_t ldx, int M, int K, void *act, size_t arb) {
    const quant::ActQ8Layout l = quant::act_q8_layout(K);
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int m = 0; m < M; m++) {
        const float *xm = x + m * ldx;
        uint8_t *row = static_cast<uint8_t *>(act) + static_cast<size_t>(m) * arb;
        float *dd = reinterpret_cast<float *>(row + l.d_off);
        int32_t *ss = reinterpret_cast<int32_t *>(row + l.sum_off);
        for (int b = 0; b < l.nb; b++) {
            __m256 v[4];
            __m256 mx = _mm256_setzero_ps();
            for (int i = 0; i < 4; i++) {
                v[i] = _mm256_loadu_ps(xm + 32 * b + 8 * i);
                mx = _mm256_max_ps(mx, _mm256_and_ps(v[i], absmask));
            }
            __m128 h = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
            h = _mm_max_ps(h, _mm_movehl_ps(h, h));
            h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
            const float d = _mm_cvtss_f32(h) / 127.0f;
            const float id = d != 0.0f ? 1.0f / d : 0.0f;
            __m256i q[4];
            for (int i = 0; i < 4; i++) q[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], _mm256_set1_ps(id)));
            const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
            _mm256_storeu_si256(reinterpret_cast<__m256i *>(row + 32 * b), _mm256_permutevar8x32_epi32(p, order));
            __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
            __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
            dd[b] = d;
            ss[b] = _mm_cvtsi128_si32(s4);
        }
        if (l.nbp > l.nb) { // the zero padding block
            memset(row + 32 * l.nb, 0, 32);
            dd[l.nb] = 0.0f;
            ss[l.nb] = 0;
        }
    }
}

} // namespace sm::kern::avx2
#include "kernels/x86/isa_end.h"
#endif
