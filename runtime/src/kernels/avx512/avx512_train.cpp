// AVX-512 training products: 12 x 32 register tiles (24 zmm accumulators).
#if defined(__x86_64__)
#include "kernels/x86/isa_avx512_begin.h"
#include "kernels/avx512/vec.h"
#include "kernels/common/gemm_train.h"
#include "kernels/common/train_eltwise.h"

namespace sm::kern {
namespace avx512 {
void gemm_nn(const float *A, int64_t lda, int M, const float *B, int64_t ldb, int K, float *C, int64_t ldc, int n0, int n1) {
    gemm_train_t<VecAvx512, 12, false>(A, lda, M, B, ldb, K, C, ldc, n0, n1);
}
void gemm_tn(const float *A, int64_t lda, int M, const float *B, int64_t ldb, int K, float *C, int64_t ldc, int n0, int n1) {
    gemm_train_t<VecAvx512, 12, true>(A, lda, M, B, ldb, K, C, ldc, n0, n1);
}
void swiglu_forward(float *out, const float *h13, int rows, int hidden) { swiglu_forward_v<VecAvx512>(out, h13, rows, hidden); }
void swiglu_backward(float *dh13, const float *dout, const float *h13, int rows, int hidden) {
    swiglu_backward_v<VecAvx512>(dh13, dout, h13, rows, hidden);
}
} // namespace avx512
extern const TrainKernels kAvx512TrainKernels = {"avx512", avx512::gemm_nn, avx512::gemm_tn, avx512::swiglu_forward,
                                                 avx512::swiglu_backward};
} // namespace sm::kern
#include "kernels/x86/isa_end.h"
#endif
