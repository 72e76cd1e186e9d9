// Quantized weights (Q8_0, Q4_0, Q4_K, Q6_K) times 8-bit activations (quant/act_q8.h),
// written once over an integer traits type I (kernels/<isa>/int8.h) that handles BPV
// consecutive 32-element activation blocks per step. (The AVX-512 tables take Q8_0 and
// Q4_0 elsewhere: kernels/avx512/q0.h.)
//
// Per output y[m][n] the order is fixed: for each step the integer products are summed
// exactly into the lanes of int32 vectors (the ISA's fixed grouping of bytes), then
//   acc = fma(float(lanes), w_scale * x_scale, acc)          (lane-wise)
// steps in increasing order; Q4_K then subtracts its mins once per super-block,
//   acc = acc - (dmin * m_s) * (d_x * sum_x)                  (lane s of 8),
// and y = I::hsum(acc), the table's one summation tree. Tiles of MR x NR outputs share
// loads but never change that order, so M, [n0, n1) and tiling never change the bits.
//
// The formats as integer dot products, per 32-element activation block with scale d_x:
//   Q8_0  sum (d_w q) (d_x x) = d_w d_x sum q x
//   Q4_0  q - 8 with the -8 folded in as -8 sum x (the block sum the format stores)
//   Q4_K  (d sc_s) q - (dmin m_s): the q part per block, the min part per super-block
//   Q6_K  (d sc_t) (q - 32) over 16-element sub-blocks t, two per activation block
#pragma once
#include "kernels/common/prefetch.h"
#include "kernels/common/unroll.h"
#include "kernels/kernels.h"
#include "quant/act_q8.h"
#include "quant/blocks.h"

#include <cstdint>

namespace sm::kern {
namespace {

enum class QFmt { Q8_0, Q4_0, Q4_K, Q6_K };

template <class I, QFmt F, int MR, int NR>
void q8_tile(const Matrix &w, int n, const uint8_t *act, size_t arb, const quant::ActQ8Layout &l, int m, float *y, int64_t ldy) {
    typename I::F acc[MR][NR];
    SM_UNROLL for (int i = 0; i < MR; i++) SM_UNROLL for (int j = 0; j < NR; j++) acc[i][j] = I::fzero();
    const uint8_t *xr[MR];
    for (int i = 0; i < MR; i++) xr[i] = act + static_cast<size_t>(m + i) * arb;
    const uint8_t *wr[NR];
    for (int j = 0; j < NR; j++) wr[j] = w.row(n + j);
    // Rows are short streams (1-3 KiB) that end before the hardware prefetcher ramps
    // up: ask for the same place in the next tile's rows, a tile ahead, into L2.
    // (Prefetches never fault, so running past the matrix is harmless.) The offset is
    // b * row_bytes / nb in 1/256 bytes: no division in the loop.
    const size_t pf_step = w.row_bytes * 256 / static_cast<size_t>(l.nb), pf0 = static_cast<size_t>(NR) * w.row_bytes;
    for (int b = 0; b < l.nb; b += I::BPV) {
        const int nblk = l.nb - b < I::BPV ? l.nb - b : I::BPV;
        const size_t pf = pf0 + (static_cast<size_t>(b) * pf_step >> 8);
        SM_UNROLL for (int j = 0; j < NR; j++) prefetch_ahead(wr[j], pf);
        typename I::WV wv[NR];
        typename I::SV ws[NR];
        SM_UNROLL for (int j = 0; j < NR; j++) {
            wv[j] = I::template load<F>(wr[j], b, nblk);
            ws[j] = I::template wscale<F>(wr[j], b, nblk);
        }
        SM_UNROLL for (int i = 0; i < MR; i++) {
            const auto xv = I::load_x(xr[i] + 32 * b);
            const typename I::F xs = I::xscale(reinterpret_cast<const float *>(xr[i] + l.d_off) + b);
            const auto corr = I::template corr<F>(reinterpret_cast<const int32_t *>(xr[i] + l.sum_off) + b);
            SM_UNROLL for (int j = 0; j < NR; j++) acc[i][j] = I::template accum<F>(acc[i][j], wv[j], xv, corr, ws[j], xs);
        }
        if constexpr (F == QFmt::Q4_K) {
            if ((b + I::BPV) % 8 == 0) // the end of a super-block
                SM_UNROLL for (int i = 0; i < MR; i++) SM_UNROLL for (int j = 0; j < NR; j++) acc[i][j] = I::q4k_mins(
                    acc[i][j], wr[j], b / 8, reinterpret_cast<const float *>(xr[i] + l.d_off) + (b / 8) * 8,
                    reinterpret_cast<const int32_t *>(xr[i] + l.sum_off) + (b / 8) * 8);
        }
    }
    SM_UNROLL for (int i = 0; i < MR; i++) SM_UNROLL for (int j = 0; j < NR; j++) y[(m + i) * ldy + n + j] = I::hsum(acc[i][j]);
}

template <class I, QFmt F, int MR, int NR>
void gemm_q8_t(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    const quant::ActQ8Layout l = quant::act_q8_layout(w.cols);
    const uint8_t *a = static_cast<const uint8_t *>(act);
    constexpr int MC = 64; // activation rows kept hot in L2 while the weights stream by
    for (int mc = 0; mc < M; mc += MC) {
        const int me = M - mc < MC ? M : mc + MC;
        int n = n0;
        for (; n + NR <= n1; n += NR) {
            int m = mc;
            for (; m + MR <= me; m += MR) q8_tile<I, F, MR, NR>(w, n, a, arb, l, m, y, ldy);
            for (; m < me; m++) q8_tile<I, F, 1, NR>(w, n, a, arb, l, m, y, ldy);
        }
        for (; n < n1; n++) {
            int m = mc;
            for (; m + MR <= me; m += MR) q8_tile<I, F, MR, 1>(w, n, a, arb, l, m, y, ldy);
            for (; m < me; m++) q8_tile<I, F, 1, 1>(w, n, a, arb, l, m, y, ldy);
        }
    }
}

template <class I, int MR, int NR>
void gemm_q8(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    switch (w.type) {
    case TensorType::Q8_0: gemm_q8_t<I, QFmt::Q8_0, MR, NR>(w, act, arb, M, y, ldy, n0, n1); break;
    case TensorType::Q4_0: gemm_q8_t<I, QFmt::Q4_0, MR, NR>(w, act, arb, M, y, ldy, n0, n1); break;
    case TensorType::Q4_K: gemm_q8_t<I, QFmt::Q4_K, MR, NR>(w, act, arb, M, y, ldy, n0, n1); break;
    case TensorType::Q6_K: gemm_q8_t<I, QFmt::Q6_K, MR, NR>(w, act, arb, M, y, ldy, n0, n1); break;
    default: break;
    }
}

// Q4_K's (d sc_s, dmin m_s) for sub-blocks s of super-block blk, exactly as ggml forms
// them (fp16 times a 6-bit integer: exact in float).
template <class H> inline void q4k_scale(const quant::BlockQ4K *blk, int s, H h2f, float *dsc, float *dm) {
    uint8_t sc, mn;
    quant::scale_min_k4(s, blk->scales, &sc, &mn);
    *dsc = h2f(blk->d) * static_cast<float>(sc);
    *dm = h2f(blk->dmin) * static_cast<float>(mn);
}

} // namespace
} // namespace sm::kern
