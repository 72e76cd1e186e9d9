// NEON element-wise kernels.
#if defined(__aarch64__)
#include "kernels/neon/api.h"
#include "kernels/neon/vec.h"
#include "kernels/common/eltwise.h"

namespace sm::kern::neon {
void rmsnorm(float *out, const float *x, const float *weight, int n, float eps) { rmsnorm_v<VecNeon>(out, x, weight, n, eps); }
void rope(float *x, int n_heads, int head_dim, const float *cs) { rope_v<VecNeon>(x, n_heads, head_dim, cs); }
void swiglu(float *gate, const float *up, int n) { swiglu_v<VecNeon>(gate, up, n); }
void add(float *y, const float *x, int n) { add_v<VecNeon>(y, x, n); }
} // namespace sm::kern::neon
#endif
