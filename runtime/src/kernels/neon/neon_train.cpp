// NEON training products (8 x 8 register tiles: 16 of the 32 q registers) and element-wise
// ops. NEON is baseline on AArch64: no target region.
#if defined(__aarch64__)
#include "kernels/neon/vec.h"
#include "kernels/common/gemm_train.h"
#include "kernels/common/train_eltwise.h"

namespace sm::kern {
namespace neon {
void gemm_nn(const float *A, int64_t lda, int M, const float *B, int64_t ldb, int K, float *C, int64_t ldc, int n0, int n1) {
    gemm_train_t<VecNeon, 8, false>(A, lda, M, B, ldb, K, C, ldc, n0, n1);
}
void gemm_tn(const float *A, int64_t lda, int M, const float *B, int64_t ldb, int K, float *C, int64_t ldc, int n0, int n1) {
    gemm_train_t<VecNeon, 8, true>(A, lda, M, B, ldb, K, C, ldc, n0, n1);
}
void swiglu_forward(float *out, const float *h13, int rows, int hidden) { swiglu_forward_v<VecNeon>(out, h13, rows, hidden); }
void swiglu_backward(float *dh13, const float *dout, const float *h13, int rows, int hidden) {
    swiglu_backward_v<VecNeon>(dh13, dout, h13, rows, hidden);
}
} // namespace neon
extern const TrainKernels kNeonTrainKernels = {"neon", neon::gemm_nn, neon::gemm_tn, neon::swiglu_forward, neon::swiglu_backward};
} // namespace sm::kern
#endif
