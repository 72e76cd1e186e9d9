// The scalar training products, and the choice of table per ISA.
#include "kernels/train_kernels.h"

#include <cmath>

namespace sm::kern {

#if defined(__x86_64__)
extern const TrainKernels kAvx2TrainKernels;
extern const TrainKernels kAvx512TrainKernels;
#endif
#if defined(__aarch64__)
extern const TrainKernels kNeonTrainKernels;
#endif

namespace {

template <bool TA>
void gemm_ref(const float *A, int64_t lda, int M, const float *B, int64_t ldb, int K, float *C, int64_t ldc, int n0, int n1) {
    for (int m = 0; m < M; m++)
        for (int n = n0; n < n1; n++) {
            float acc = 0.0f;
            for (int k = 0; k < K; k++) acc += (TA ? A[k * lda + m] : A[m * lda + k]) * B[k * ldb + n];
            C[m * ldc + n] = acc;
        }
}

void swiglu_forward_ref(float *out, const float *h13, int rows, int hidden) {
    for (int r = 0; r < rows; r++) {
        const float *g = h13 + static_cast<int64_t>(r) * 2 * hidden, *u = g + hidden;
        float *o = out + static_cast<int64_t>(r) * hidden;
        for (int i = 0; i < hidden; i++) o[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
    }
}

// out = g sig(g) u:  d/du = g sig(g),  d/dg = u sig(g) (1 + g (1 - sig(g)))
void swiglu_backward_ref(float *dh13, const float *dout, const float *h13, int rows, int hidden) {
    for (int r = 0; r < rows; r++) {
        const float *g = h13 + static_cast<int64_t>(r) * 2 * hidden, *u = g + hidden;
        const float *d = dout + static_cast<int64_t>(r) * hidden;
        float *dg = dh13 + static_cast<int64_t>(r) * 2 * hidden, *du = dg + hidden;
        for (int i = 0; i < hidden; i++) {
            const float sg = 1.0f / (1.0f + expf(-g[i]));
            du[i] = d[i] * g[i] * sg;
            dg[i] = d[i] * u[i] * sg * (1.0f + g[i] * (1.0f - sg));
        }
    }
}

} // namespace

const TrainKernels kRefTrainKernels = {"scalar", gemm_ref<false>, gemm_ref<true>, swiglu_forward_ref, swiglu_backward_ref};

const TrainKernels *train_kernels_for(sm_isa isa) {
    switch (isa) {
#if defined(__x86_64__)
    case SM_ISA_AVX2: return &kAvx2TrainKernels;
    case SM_ISA_AVX512: return &kAvx512TrainKernels;
#endif
#if defined(__aarch64__)
    case SM_ISA_NEON: return &kNeonTrainKernels;
#endif
    default: return &kRefTrainKernels;
    }
}

} // namespace sm::kern
