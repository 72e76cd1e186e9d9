// The scalar training products, and the choice of table per ISA.
#include "kernels/train_kernels.h"

namespace sm::kern {

#if defined(__x86_64__)
extern const TrainKernels kAvx2TrainKernels;
extern const TrainKernels kAvx512TrainKernels;
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

} // namespace

const TrainKernels kRefTrainKernels = {"scalar", gemm_ref<false>, gemm_ref<true>};

const TrainKernels *train_kernels_for(sm_isa isa) {
    switch (isa) {
#if defined(__x86_64__)
    case SM_ISA_AVX2: return &kAvx2TrainKernels;
    case SM_ISA_AVX512: return &kAvx512TrainKernels;
#endif
    default: return &kRefTrainKernels;
    }
}

} // namespace sm::kern
