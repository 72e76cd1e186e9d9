// Q8_0 and Q4_0 weights times 8-bit activations (quant/act_q8.h), written once over an
// integer traits type I (kernels/<isa>/int8.h) holding BPV blocks per vector.
//
// Per output y[m][n] the order is fixed: for each group of BPV consecutive blocks the
// integer products are summed exactly into the lanes of one int32 vector (lane i of a
// block sums its bytes 4i..4i+3, or the ISA's fixed grouping); then
//   acc = fma(float(lanes), d_w * d_x, acc)
// lane-wise, groups in increasing order, and y = I::hsum(acc) with the table's one
// summation tree. Tiles of MR x NR outputs share loads but never change that order.
#pragma once
#include "kernels/kernels.h"
#include "quant/act_q8.h"
#include "quant/blocks.h"

#include <cstdint>

namespace sm::kern {
namespace {

template <class I, bool Q4, int MR, int NR>
void q8_tile(const Matrix &w, int n, const uint8_t *act, size_t arb, const quant::ActQ8Layout &l, int m, float *y,
             int64_t ldy) {
    typename I::F acc[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = I::fzero();
    const uint8_t *xr[MR];
    for (int i = 0; i < MR; i++) xr[i] = act + static_cast<size_t>(m + i) * arb;
    const uint8_t *wr[NR];
    for (int j = 0; j < NR; j++) wr[j] = w.row(n + j);
    for (int b = 0; b < l.nb; b += I::BPV) {
        const int nblk = l.nb - b < I::BPV ? l.nb - b : I::BPV;
        typename I::WV wv[NR];
        typename I::F ws[NR];
        for (int j = 0; j < NR; j++) {
            if constexpr (Q4) {
                const auto *blk = reinterpret_cast<const quant::BlockQ4_0 *>(wr[j]) + b;
                wv[j] = I::load_q4(blk, nblk);
                ws[j] = I::wscale(&blk->d, sizeof(quant::BlockQ4_0), nblk);
            } else {
                const auto *blk = reinterpret_cast<const quant::BlockQ8_0 *>(wr[j]) + b;
                wv[j] = I::load_q8(blk, nblk);
                ws[j] = I::wscale(&blk->d, sizeof(quant::BlockQ8_0), nblk);
            }
        }
        for (int i = 0; i < MR; i++) {
            const auto xv = I::load_x(xr[i] + 32 * b);
            const typename I::F xs = I::xscale(reinterpret_cast<const float *>(xr[i] + l.d_off) + b);
            if constexpr (Q4) {
                const auto corr = I::q4_corr(reinterpret_cast<const int32_t *>(xr[i] + l.sum_off) + b);
                for (int j = 0; j < NR; j++)
                    acc[i][j] = I::fma(I::cvt(I::dot_q4(wv[j], xv, corr)), I::mul(ws[j], xs), acc[i][j]);
            } else {
                for (int j = 0; j < NR; j++)
                    acc[i][j] = I::fma(I::cvt(I::dot_q8(wv[j], xv)), I::mul(ws[j], xs), acc[i][j]);
            }
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) y[(m + i) * ldy + n + j] = I::hsum(acc[i][j]);
}

template <class I, bool Q4, int MR, int NR>
void gemm_q8_t(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    const quant::ActQ8Layout l = quant::act_q8_layout(w.cols);
    const uint8_t *a = static_cast<const uint8_t *>(act);
    constexpr int MC = 64; // activation rows kept hot in L2 while the weights stream by
    for (int mc = 0; mc < M; mc += MC) {
        const int me = M - mc < MC ? M : mc + MC;
        int n = n0;
        for (; n + NR <= n1; n += NR) {
            int m = mc;
            for (; m + MR <= me; m += MR) q8_tile<I, Q4, MR, NR>(w, n, a, arb, l, m, y, ldy);
            for (; m < me; m++) q8_tile<I, Q4, 1, NR>(w, n, a, arb, l, m, y, ldy);
        }
        for (; n < n1; n++) {
            int m = mc;
            for (; m + MR <= me; m += MR) q8_tile<I, Q4, MR, 1>(w, n, a, arb, l, m, y, ldy);
            for (; m < me; m++) q8_tile<I, Q4, 1, 1>(w, n, a, arb, l, m, y, ldy);
        }
    }
}

template <class I, int MR, int NR>
void gemm_q8(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    if (w.type == TensorType::Q4_0) gemm_q8_t<I, true, MR, NR>(w, act, arb, M, y, ldy, n0, n1);
    else gemm_q8_t<I, false, MR, NR>(w, act, arb, M, y, ldy, n0, n1);
}

} // namespace
} // namespace sm::kern
