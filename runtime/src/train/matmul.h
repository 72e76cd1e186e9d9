// The training products of F32 row-major matrices, on the SIMD kernels and the thread
// pool. Every output element is one kernel chain over the inner dimension in increasing
// order, and tasks only split outputs, so the bits never depend on the thread count:
//     forward  y[M][N]  = x[M][K] . W[N][K]^T   (the kernel table's matmul)
//     backward dx[M][K] = dy[M][N] . W          (gemm_nn: W read in place)
//              dW[N][K] = dy^T . x              (gemm_tn: the sum over the M rows of the
//                                               micro-batch is one chain per element)
#pragma once
#include "core/parallel.h"
#include "kernels/kernels.h"
#include "kernels/train_kernels.h"

#include <cstddef>
#include <cstdint>

namespace sm::train {

struct Compute {
    const kern::Kernels *k = nullptr;
    const Parallel *par = nullptr;
    const kern::TrainKernels *tk = &kern::kRefTrainKernels;
};

// Scratch the backward needs: a weight gradient before it is added to the accumulated
// one (max N * K floats).
struct MatmulScratch {
    float *dw = nullptr;
};

// y (row stride ldy) = x (row stride ldx) . W^T, W: N rows of K floats; only output
// columns [n0, n1) (n1 < 0: N), so a big product can run as several bounded units.
// With a residual (row stride ldy), y = x . W^T + residual, added in the product's tasks.
void matmul_forward(const Compute &c, float *y, int64_t ldy, const float *x, int64_t ldx, const float *W, int M, int N, int K,
                    int n0 = 0, int n1 = -1, const float *residual = nullptr);

// dx (M x K, stride ldx) = dy . W, when dx is not null; dW (N x K) = dy^T . x, or
// dW += dy^T . x when accumulate (the product first, then one add per element); only
// columns [k0, k1) of both (k1 < 0: K).
void matmul_backward(const Compute &c, float *dx, int64_t lddx, float *dW, bool accumulate, const float *dy, int64_t lddy,
                     const float *x, int64_t ldx, const float *W, int M, int N, int K, const MatmulScratch &s, int k0 = 0,
                     int k1 = -1);

} // namespace sm::train
