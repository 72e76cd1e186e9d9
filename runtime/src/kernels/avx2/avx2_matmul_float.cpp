// AVX2 products of float-convertible weights: 6 x 16 register tiles (12 ymm
// accumulators) over a 256 x 16 transposed weight panel.
#if defined(__x86_64__)
#include "kernels/x86/isa_avx2_begin.h"
#include "kernels/avx2/api.h"
#include "kernels/avx2/vec.h"
#include "kernels/common/gemm_float.h"

namespace sm::kern::avx2 {
void matmul_float(const Matrix &w, const float *x, int64_t ldx, int M, float *y, int64_t ldy, int n0, int n1) {
    gemm_float<VecAvx2, 6, 2>(w, x, ldx, M, y, ldy, n0, n1);
}
} // namespace sm::kern::avx2
#include "kernels/x86/isa_end.h"
#endif
