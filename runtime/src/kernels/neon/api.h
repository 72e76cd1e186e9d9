// The NEON kernels behind kNeonKernels / kNeonDotKernels (defined in neon_table.cpp).
#pragma once
#include "kernels/kernels.h"

namespace sm::kern::neon {
void matmul_float(const Matrix &w, const float *x, int64_t ldx, int M, float *y, int64_t ldy, int n0, int n1);
void matmul_q8(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1);
void rmsnorm(float *out, const float *x, const float *weight, int n, float eps);
void rope(float *x, int n_heads, int head_dim, const float *cs);
void swiglu(float *gate, const float *up, int n);
void add(float *y, const float *x, int n);
void attention(const AttnArgs &a, int h0, int h1);
} // namespace sm::kern::neon

namespace sm::kern::neondot {
void matmul_q8(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1);
} // namespace sm::kern::neondot
