// AVX-512 Q8_0 / Q4_0 products without VNNI (vpmaddubsw), and the activation quantizer.
#if defined(__x86_64__)
#include "kernels/x86/isa_avx512_begin.h"
#include "kernels/avx512/api.h"
#include "kernels/avx512/int8.h"
#include "kernels/avx512/q0.h"
#include "kernels/common/gemm_q8.h"

namespace sm::kern::avx512 {

void matmul_q8(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    if (w.type == TensorType::Q8_0) return matmul_q0<true>(w, act, arb, M, y, ldy, n0, n1);
    if (w.type == TensorType::Q4_0) return matmul_q0<false>(w, act, arb, M, y, ldy, n0, n1);
    gemm_q8<IntAvx512, 4, 4>(w, act, arb, M, y, ldy, n0, n1);
}

// quant::quantize_act_q8, vectorised: the same max, division and round-half-even
// (vcvtps2dq under the default rounding mode), hence the same bytes.
void prepare_act_q8(const float *x, int64_t ldx, int M, int K, void *act, size_t arb) {
    const quant::ActQ8Layout l = quant::act_q8_layout(K);
    const __m512 absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    for (int m = 0; m < M; m++) {
        const float *xm = x + m * ldx;
        uint8_t *row = static_cast<uint8_t *>(act) + static_cast<size_t>(m) * arb;
        float *dd = reinterpret_cast<float *>(row + l.d_off);
        int32_t *ss = reinterpret_cast<int32_t *>(row + l.sum_off);
        for (int b = 0; b < l.nb; b++) {
            const __m512 v0 = _mm512_loadu_ps(xm + 32 * b), v1 = _mm512_loadu_ps(xm + 32 * b + 16);
            const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_and_ps(v0, absmask), _mm512_and_ps(v1, absmask)));
            const float d = amax / 127.0f;
            const float id = d != 0.0f ? 1.0f / d : 0.0f;
            const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(id)));
            const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(id)));
            _mm_storeu_si128(reinterpret_cast<__m128i *>(row + 32 * b), _mm512_cvtepi32_epi8(q0));
            _mm_storeu_si128(reinterpret_cast<__m128i *>(row + 32 * b + 16), _mm512_cvtepi32_epi8(q1));
            dd[b] = d;
            ss[b] = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
        }
        if (l.nbp > l.nb) { // the zero padding block
            memset(row + 32 * l.nb, 0, 32);
            dd[l.nb] = 0.0f;
            ss[l.nb] = 0;
        }
    }
}

} // namespace sm::kern::avx512
#include "kernels/x86/isa_end.h"
#endif
