// The training products of F32 row-major matrices, on the kernel table's GEMM and the
// thread pool. Every output element is one kernel chain over the inner dimension in
// increasing order, and tasks only split outputs, so the bits never depend on the thread
// count. The backward products are forward products of transposed copies:
//     forward  y[M][N]  = x[M][K] . W[N][K]^T
//     backward dx[M][K] = dy[M][N] . W          (the GEMM over W^T)
//              dW[N][K] = dy^T . x              (the GEMM over x^T with dy^T as rows;
//                                               the sum over the M rows is one chain)
#pragma once
#include "core/parallel.h"
#include "kernels/kernels.h"

#include <cstddef>
#include <cstdint>

namespace sm::train {

struct Compute {
    const kern::Kernels *k = nullptr;
    const Parallel *par = nullptr;
};

// Scratch the backward needs, floats: see matmul_scratch_floats.
struct MatmulScratch {
    float *wt = nullptr;  // W^T, max N * K
    float *dyt = nullptr; // dy^T, max N * M
    float *xt = nullptr;  // x^T, max K * M
    float *dw = nullptr;  // a weight gradient before it is added, max N * K
};

// dst[c][r] = src[r][c] for an R x C matrix (row strides lds, ldd).
void transpose(float *dst, int64_t ldd, const float *src, int64_t lds, int R, int C);

// y (row stride ldy) = x (row stride ldx) . W^T, W: N rows of K floats.
void matmul_forward(const Compute &c, float *y, int64_t ldy, const float *x, int64_t ldx, const float *W, int M, int N, int K);

// dx (M x K, stride ldx) = dy . W, when dx is not null; dW (N x K) = dy^T . x, or
// dW += dy^T . x when accumulate (the product first, then one add per element).
void matmul_backward(const Compute &c, float *dx, int64_t lddx, float *dW, bool accumulate, const float *dy, int64_t lddy,
                     const float *x, int64_t ldx, const float *W, int M, int N, int K, const MatmulScratch &s);

} // namespace sm::train
