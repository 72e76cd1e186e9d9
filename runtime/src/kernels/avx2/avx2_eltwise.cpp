// AVX2 element-wise kernels.
#if defined(__x86_64__)
#include "kernels/x86/isa_avx2_begin.h"
#include "kernels/avx2/api.h"
#include "kernels/avx2/vec.h"
#include "kernels/common/eltwise.h"

namespace sm::kern::avx2 {
void rmsnorm(float *out, const float *x, const float *weight, int n, float eps) { rmsnorm_v<VecAvx2>(out, x, weight, n, eps); }
void rope(float *x, int n_heads, int head_dim, const float *cs) { rope_v<VecAvx2>(x, n_heads, head_dim, cs); }
void swiglu(float *gate, const float *up, int n) { swiglu_v<VecAvx2>(gate, up, n); }
void add(float *y, const float *x, int n) { add_v<VecAvx2>(y, x, n); }
} // namespace sm::kern::avx2
#include "kernels/x86/isa_end.h"
#endif
