// NEON Q8_0 / Q4_0 products with widening multiplies (no dot-product extension).
#if defined(__aarch64__)
#include "kernels/neon/api.h"
#include "kernels/neon/int8.h"
#include "kernels/common/gemm_q8.h"

namespace sm::kern::neon {
void matmul_q8(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    gemm_q8<IntNeon, 2, 4>(w, act, arb, M, y, ldy, n0, n1);
}
} // namespace sm::kern::neon
#endif
