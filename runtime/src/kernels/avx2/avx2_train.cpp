// AVX2 training products: 6 x 16 register tiles (12 ymm accumulators).
#if defined(__x86_64__)
#include "kernels/x86/isa_avx2_begin.h"
#include "kernels/avx2/vec.h"
#include "kernels/common/gemm_train.h"
#include "kernels/common/train_eltwise.h"

namespace sm::kern {
namespace avx2 {
void gemm_nn(const float *A, int64_t lda, int M, const float *B, int64_t ldb, int K, float *C, int64_t ldc, int n0, int n1) {
    gemm_train_t<VecAvx2, 6, false>(A, lda, M, B, ldb, K, C, ldc, n0, n1);
}
void gemm_tn(const float *A, int64_t lda, int M, const float *B, int64_t ldb, int K, float *C, int64_t ldc, int n0, int n1) {
    gemm_train_t<VecAvx2, 6, true>(A, lda, M, B, ldb, K, C, ldc, n0, n1);
}
void swiglu_forward(float *out, const float *h13, int rows, int hidden) { swiglu_forward_v<VecAvx2>(out, h13, rows, hidden); }
void swiglu_backward(float *dh13, const float *dout, const float *h13, int rows, int hidden) {
    swiglu_backward_v<VecAvx2>(dh13, dout, h13, rows, hidden);
}
} // namespace avx2
extern const TrainKernels kAvx2TrainKernels = {"avx2", avx2::gemm_nn, avx2::gemm_tn, avx2::swiglu_forward, avx2::swiglu_backward};
} // namespace sm::kern
#include "kernels/x86/isa_end.h"
#endif
