// NEON Q8_0 / Q4_0 products with sdot (ARMv8.2 dot product, when getauxval reports it);
// the same lanes, so the same bits, as neon_matmul_q8.cpp.
#if defined(__aarch64__)
#define SM_NEON_DOTPROD 1
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("dotprod"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+dotprod")
#endif
#include "kernels/neon/api.h"
#include "kernels/neon/int8.h"
#include "kernels/common/gemm_q8.h"

namespace sm::kern::neondot {
void matmul_q8(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    gemm_q8<IntNeon, 2, 4>(w, act, arb, M, y, ldy, n0, n1);
}
} // namespace sm::kern::neondot
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
