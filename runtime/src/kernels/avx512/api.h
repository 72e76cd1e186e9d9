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
void layernorm(float *out, const float *x, const float *weight, const float *bias, int n, float eps);
void gelu(float *x, int n);
void attention(const AttnArgs &a, int h0, int h1);
} // namespace sm::kern::avx512

namespace sm::kern::avx512vnni {
// From this many activation rows up, Q8_0 / Q4_0 run the grouped GEMM (and their
// activations are prepared grouped); below, the GEMV for each row over tiles of weight
// rows. The GEMM's 16 lanes are activation rows, so a few rows would leave most idle.
constexpr int kQ0GemmMinRows = 12;
void matmul_q8(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1);
void prepare_act_grouped(const float *x, int64_t ldx, int M, int K, void *act, size_t arb);
} // namespace sm::kern::avx512vnni
