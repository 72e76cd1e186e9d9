// AVX-512 products of float-convertible weights: 6 x 64 register tiles (24 zmm
// accumulators) over a 64 x 64 transposed weight panel: 64 outputs per broadcast keep
// the x traffic low enough for L3 when M x K outgrows L2.
#if defined(__x86_64__)
#include "kernels/x86/isa_avx512_begin.h"
#include "kernels/avx512/api.h"
#include "kernels/avx512/vec.h"
#include "kernels/common/gemm_float.h"

namespace sm::kern::avx512 {
void matmul_float(const Matrix &w, const float *x, int64_t ldx, int M, float *y, int64_t ldy, int n0, int n1) {
    gemm_float<VecAvx512, 6, 4>(w, x, ldx, M, y, ldy, n0, n1);
}
} // namespace sm::kern::avx512
#include "kernels/x86/isa_end.h"
#endif
