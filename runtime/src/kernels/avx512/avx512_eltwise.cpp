// AVX-512 element-wise kernels.
#if defined(__x86_64__)
#include "kernels/x86/isa_avx512_begin.h"
#include "kernels/avx512/api.h"
#include "kernels/avx512/vec.h"
#include "kernels/common/eltwise.h"

namespace sm::kern::avx512 {
void rmsnorm(float *out, const float *x, const float *weight, int n, float eps) { rmsnorm_v<VecAvx512>(out, x, weight, n, eps); }
void rope(float *x, int n_heads, int head_dim, const float *cs) { rope_v<VecAvx512>(x, n_heads, head_dim, cs); }
void swiglu(float *gate, const float *up, int n) { swiglu_v<VecAvx512>(gate, up, n); }
void add(float *y, const float *x, int n) { add_v<VecAvx512>(y, x, n); }
} // namespace sm::kern::avx512
#include "kernels/x86/isa_end.h"
#endif
