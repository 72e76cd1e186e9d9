// The AVX-512 kernels behind kAvx512Kernels / kAvx512VnniKernels (in avx512_table.cpp).
#pragma once
#include "kernels/kernels.h"

namespace sm::kern::avx512 {
void matmul_float(const Matrix &w, const float *x, int64_t ldx, int M, float *y, int64_t ldy, int n0, int n1);
void matmul_q8(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1);
void prepare_act_q8(const float *x, int64_t ldx, int M, int K, void *act, size_t arb);
void rmsnorm(float *out, const float *x, const float *weight, int n, float eps);
void rope(float *x, int n_heads, int head_dim, const float *cs);
void swiglu(float *gate, const float *up, int n);
void add(float *y, const float *x, int n);
void attention(const AttnArgs &a, int h0, int h1);
} // namespace sm::kern::avx512

namespace sm::kern::avx512vnni {
void matmul_q8(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1);
// Rows [r0, r1) of an M-row batch (M >= kGroupedActMinRows) in ActFormat::Q8Grouped's layout.
void prepare_act_grouped(const float *x, int64_t ldx, int M, int r0, int r1, int K, void *act, size_t arb);
} // namespace sm::kern::avx512vnni
