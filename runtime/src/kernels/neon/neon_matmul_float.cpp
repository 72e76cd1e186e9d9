// NEON products of float-convertible weights: 6 x 16 register tiles (24 accumulators)
// over a 256 x 16 transposed weight panel.
#if defined(__aarch64__)
#include "kernels/neon/api.h"
#include "kernels/neon/vec.h"
#include "kernels/common/gemm_float.h"

namespace sm::kern::neon {
void matmul_float(const Matrix &w, const float *x, int64_t ldx, int M, float *y, int64_t ldy, int n0, int n1) {
    gemm_float<VecNeon, 6, 4>(w, x, ldx, M, y, ldy, n0, n1);
}
} // namespace sm::kern::neon
#endif
