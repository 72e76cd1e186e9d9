// AVX-512 products of float weights: 8 x 48 register tiles (24 zmm accumulators) over an
// 80 x 48 transposed weight panel (15 KiB). Wider than 12 x 32, it streams x over the
// panels 1.5 times less often, which matters once M x K outgrows L2 (long prefills).
#if defined(__x86_64__)
#include "kernels/x86/isa_avx512_begin.h"
#include "kernels/avx512/api.h"
#include "kernels/avx512/vec.h"
#include "kernels/common/gemm_float.h"

namespace sm::kern::avx512 {
void matmul_float(const Matrix &w, const float *x, int64_t ldx, int M, float *y, int64_t ldy, int n0, int n1) {
    gemm_float<VecAvx512, 8, 3>(w, x, ldx, M, y, ldy, n0, n1);
}
} // namespace sm::kern::avx512
#include "kernels/x86/isa_end.h"
#endif
