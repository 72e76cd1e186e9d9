// gemm_nn / gemm_tn (kernels/train_kernels.h) over a vector traits type V, instantiated
// inside each ISA's target region. Internal linkage.
//
// Method: a KC x NR panel of B (NR = 2 vectors) is copied row by row (B is row-major, so
// this is plain loads, no transpose), then MR x NR register tiles run over it for every
// MR rows of C; A's element (m, k) is broadcast once per k. TA: A is stored K x M.
#pragma once
#include "kernels/common/unroll.h"
#include "kernels/train_kernels.h"

#include <cstdint>

namespace sm::kern {
namespace {

template <class V, int R, bool TA>
void train_tile(const float *A, int64_t lda, const float *panel, int kc, float *C, int64_t ldc, int ncols, bool first) {
    constexpr int W = V::W, NR = 2 * W;
    typename V::T acc[R][2];
    const bool full = ncols >= NR;
    SM_UNROLL for (int r = 0; r < R; r++) SM_UNROLL for (int v = 0; v < 2; v++) {
        const int nv = ncols - v * W;
        if (first) acc[r][v] = V::zero();
        else if (full) acc[r][v] = V::loadu(C + r * ldc + v * W);
        else acc[r][v] = V::load_n(C + r * ldc + v * W, nv < 0 ? 0 : nv);
    }
    for (int k = 0; k < kc; k++) {
        const typename V::T b0 = V::loadu(panel + k * NR), b1 = V::loadu(panel + k * NR + W);
        SM_UNROLL for (int r = 0; r < R; r++) {
            const typename V::T a = V::bcast(TA ? A + k * lda + r : A + r * lda + k);
            acc[r][0] = V::fma(a, b0, acc[r][0]);
            acc[r][1] = V::fma(a, b1, acc[r][1]);
        }
    }
    SM_UNROLL for (int r = 0; r < R; r++) SM_UNROLL for (int v = 0; v < 2; v++) {
        const int nv = ncols - v * W;
        if (full) V::storeu(C + r * ldc + v * W, acc[r][v]);
        else if (nv > 0) V::store_n(C + r * ldc + v * W, acc[r][v], nv);
    }
}

template <class V, int MR, bool TA, int R = MR>
void train_rows(int rows, const float *A, int64_t lda, const float *panel, int kc, float *C, int64_t ldc, int ncols, bool first) {
    if constexpr (R > 0) {
        if (rows == R) return train_tile<V, R, TA>(A, lda, panel, kc, C, ldc, ncols, first);
        train_rows<V, MR, TA, R - 1>(rows, A, lda, panel, kc, C, ldc, ncols, first);
    }
}

template <class V, int MR, bool TA>
void gemm_train_t(const float *A, int64_t lda, int M, const float *B, int64_t ldb, int K, float *C, int64_t ldc, int n0, int n1) {
    constexpr int W = V::W, NR = 2 * W, KC = 256;
    alignas(64) float panel[KC * NR];
    for (int nb = n0; nb < n1; nb += NR) {
        const int ncols = n1 - nb < NR ? n1 - nb : NR;
        for (int kb = 0; kb < K; kb += KC) {
            const int kc = K - kb < KC ? K - kb : KC;
            for (int k = 0; k < kc; k++) {
                const float *row = B + static_cast<int64_t>(kb + k) * ldb + nb;
                V::storeu(panel + k * NR, V::load_n(row, ncols));
                V::storeu(panel + k * NR + W, V::load_n(row + W, ncols - W < 0 ? 0 : ncols - W));
            }
            for (int m = 0; m < M; m += MR) {
                const int rows = M - m < MR ? M - m : MR;
                const float *a = TA ? A + static_cast<int64_t>(kb) * lda + m : A + m * lda + kb;
                train_rows<V, MR, TA>(rows, a, lda, panel, kc, C + m * ldc + nb, ldc, ncols, kb == 0);
            }
        }
    }
}

} // namespace
} // namespace sm::kern
