// The products training needs besides the table's y = x W^T: the weight operand row-major
// K x N, read in place (no transposed copy), and optionally A read transposed:
//     gemm_nn: C[m][n] = sum_k A[m][k] B[k][n]     (dX = dY . W)
//     gemm_tn: C[m][n] = sum_k A[k][m] B[k][n]     (dW = dY^T . X, summed over rows k)
// for n in [n0, n1) and all M rows. Every C element is one chain of multiply-adds over k
// in increasing order from 0 (paused in C at block edges by exact stores and reloads), so
// the bits never depend on M, on [n0, n1) or on how callers split the work; tables of
// different ISAs may differ from each other. One table per ISA, chosen to match the
// runtime's kernel table.
#pragma once
#include "smallmind/smallmind.h"

#include <cstdint>

namespace sm::kern {

using TrainGemmFn = void (*)(const float *A, int64_t lda, int M, const float *B, int64_t ldb, int K, float *C, int64_t ldc,
                             int n0, int n1);

// h13 rows are [gate | up] (2 x hidden floats): out = silu(gate) up, and its backward
// (dh13 from dout). Each element's bits depend only on its inputs, whatever the row count.
using SwigluForwardFn = void (*)(float *out, const float *h13, int rows, int hidden);
using SwigluBackwardFn = void (*)(float *dh13, const float *dout, const float *h13, int rows, int hidden);

struct TrainKernels {
    const char *name;
    TrainGemmFn gemm_nn;
    TrainGemmFn gemm_tn;
    SwigluForwardFn swiglu_forward;
    SwigluBackwardFn swiglu_backward;
};

extern const TrainKernels kRefTrainKernels; // scalar, every platform

// The table for isa (the scalar one where there is no SIMD version).
const TrainKernels *train_kernels_for(sm_isa isa);

} // namespace sm::kern
