// Matrix products of float weights (F32, F16, BF16), written once over a vector traits
// type V (kernels/<isa>/vec.h) and instantiated inside each ISA's target region.
// Everything here has internal linkage.
//
// Every y[m][n] is one chain of fused multiply-adds over k in increasing order, starting
// from 0: acc = fma(x[m][k], w[n][k], acc). Blocking only decides when the chain pauses
// in y (an exact store and reload), so the bits never depend on M, [n0, n1) or tiling.
//
// Method: NR = NV * W weight rows are converted and transposed into a k-major panel of
// KC x NR floats on the stack (so one load gives NR outputs' weights at one k), then an
// MR x NR register tile of accumulators runs over it for every MR rows of x, each x
// value broadcast once per k: the classic outer-product GEMM micro-kernel. The panel is
// reused by all M rows. For M <= 2 (decode) gemv_float_t runs the same chains straight
// from registers, without the panel. Float weights the loader put in Layout::Rows8 (W = 8
// tables) are such panels already, in their element type: gemm_rows8_f32_t runs F32 groups
// in place, gemm_rows8_t converts F16 / BF16 ones, gemv_rows8_t streams them.
#pragma once
#include "kernels/common/prefetch.h"
#include "kernels/common/unroll.h"
#include "kernels/kernels.h"

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace sm::kern {
namespace {

// ---- weight row loaders: W elements of a row starting at k (n <= W valid, rest zero)
template <class V> struct LoadF32 {
    static typename V::T load(const uint8_t *row, int k, int n) { return V::load_n(reinterpret_cast<const float *>(row) + k, n); }
};
template <class V> struct LoadF16 {
    static typename V::T load(const uint8_t *row, int k, int n) {
        return V::f16_n(reinterpret_cast<const uint16_t *>(row) + k, n);
    }
};
template <class V> struct LoadBF16 {
    static typename V::T load(const uint8_t *row, int k, int n) {
        return V::bf16_n(reinterpret_cast<const uint16_t *>(row) + k, n);
    }
};
constexpr size_t kGemmAheadBytes = 32768;

template <class V, int NV> struct GemmShape {
    static constexpr int W = V::W, NR = NV * V::W;
    // The panel (KC x NR floats, at most 16 KiB) and MR rows of x (KC floats each) stay
    // in L1 together while every x row goes over the panel.
    static constexpr int KC = 4096 / NR / 16 * 16;
};

// Panel[k][j] = w[nb + j][kb + k] for k < kc, j < NR (rows past nrows are zero).
//
// The NR rows of a panel are one contiguous block of the weights, read as NR short
// streams the hardware prefetchers do not follow. So each W x W load also asks for as
// many bytes kGemmAheadBytes further on into L2: the block is asked for well ahead, in
// step with the reads, in small bursts (a whole panel's worth at once is mostly dropped;
// at small M, batched decode, panels go by too quickly for a shorter lead).
template <class V, class L, int NV> void pack_panel(const Matrix &w, int nb, int nrows, int kb, int kc, float *panel) {
    constexpr int W = V::W, NR = NV * W;
    const size_t K = static_cast<size_t>(w.cols), step_bytes = w.row_bytes / K * static_cast<size_t>(W * W);
    const uint8_t *const block = w.row(nb);
    size_t pf = kGemmAheadBytes + w.row_bytes * NR * static_cast<size_t>(kb) / K; // from block
    typename V::T r[W];
    if (nrows == NR) { // the common case: whole W x W tiles, no checks per row or column
        const int kfull = kc / W * W;
        for (int g = 0; g < NV; g++) {
            const uint8_t *rows = w.row(nb + g * W);
            for (int kk = 0; kk < kfull; kk += W) {
                for (size_t o = 0; o < step_bytes; o += 64) prefetch_ahead(block, pf + o);
                pf += step_bytes;
                SM_UNROLL for (int i = 0; i < W; i++) r[i] = L::load(rows + static_cast<size_t>(i) * w.row_bytes, kb + kk, W);
                V::transpose(r);
                SM_UNROLL for (int t = 0; t < W; t++) V::storeu(panel + (kk + t) * NR + g * W, r[t]);
            }
        }
        if (kfull == kc) return;
        kb += kfull; // the last kc % W columns, below
        kc -= kfull;
        panel += static_cast<size_t>(kfull) * NR;
    }
    for (int g = 0; g < NV; g++) {
        for (int kk = 0; kk < kc; kk += W) {
            const int nk = kc - kk < W ? kc - kk : W;
            for (size_t o = 0; o < step_bytes; o += 64) prefetch_ahead(block, pf + o);
            pf += step_bytes;
            for (int i = 0; i < W; i++) {
                const int n = g * W + i;
                r[i] = n < nrows ? L::load(w.row(nb + n), kb + kk, nk) : V::zero();
            }
            V::transpose(r);
            for (int t = 0; t < nk; t++) V::storeu(panel + (kk + t) * NR + g * W, r[t]);
        }
    }
}

// y[r][0..ncols) (+)= sum_k x[r][k] * B[k][.], for R rows of x. Vector v of B's row k is
// at b + k * ldb + v * vstride: a packed panel (ldb = NR, vstride = W) or F32 weights in
// Layout::Rows8 (ldb = 8, vstride = one group's floats). Full-width tiles take plain loads
// and stores; only a row panel's last tile masks them.
template <class V, int R, int NV> void micro_tile(const float *x, int64_t ldx, const float *b, int64_t ldb, int64_t vstride,
                                                  int kc, float *y, int64_t ldy, int ncols, bool first) {
    constexpr int W = V::W, NR = NV * W;
    typename V::T acc[R][NV];
    const bool full = ncols >= NR;
    SM_UNROLL for (int r = 0; r < R; r++) SM_UNROLL for (int v = 0; v < NV; v++) {
        const int nv = ncols - v * W;
        if (first) acc[r][v] = V::zero();
        else if (full) acc[r][v] = V::loadu(y + r * ldy + v * W);
        else acc[r][v] = V::load_n(y + r * ldy + v * W, nv < 0 ? 0 : nv);
    }
    for (int k = 0; k < kc; k++) {
        typename V::T bv[NV];
        SM_UNROLL for (int v = 0; v < NV; v++) bv[v] = V::loadu(b + k * ldb + v * vstride);
        SM_UNROLL for (int r = 0; r < R; r++) {
            const typename V::T a = V::bcast(x + r * ldx + k);
            SM_UNROLL for (int v = 0; v < NV; v++) acc[r][v] = V::fma(a, bv[v], acc[r][v]);
        }
    }
    if (full) {
        SM_UNROLL for (int r = 0; r < R; r++) SM_UNROLL for (int v = 0; v < NV; v++) V::storeu(y + r * ldy + v * W, acc[r][v]);
        return;
    }
    SM_UNROLL for (int r = 0; r < R; r++) SM_UNROLL for (int v = 0; v < NV; v++) {
        const int nv = ncols - v * W;
        if (nv >= W) V::storeu(y + r * ldy + v * W, acc[r][v]);
        else if (nv > 0) V::store_n(y + r * ldy + v * W, acc[r][v], nv);
    }
}

template <class V, int MR, int NV, int R = MR> void micro_rows(int rows, const float *x, int64_t ldx, const float *b, int64_t ldb,
                                                               int64_t vstride, int kc, float *y, int64_t ldy, int ncols,
                                                               bool first) {
    if constexpr (R > 0) {
        if (rows == R) return micro_tile<V, R, NV>(x, ldx, b, ldb, vstride, kc, y, ldy, ncols, first);
        micro_rows<V, MR, NV, R - 1>(rows, x, ldx, b, ldb, vstride, kc, y, ldy, ncols, first);
    }
}

// The next tile's rows of x: short runs of kc floats a page apart, which the hardware
// prefetchers do not follow.
inline void prefetch_x_rows(const float *x, int64_t ldx, int r0, int r1, int kc) {
    for (int r = r0; r < r1; r++)
        for (int c = 0; c < kc; c += 16) __builtin_prefetch(x + r * ldx + c);
}

// One panel: pack it, run every MR rows of x over it.
template <class V, class L, int MR, int NV> void panel_pass(const Matrix &w, const float *x, int64_t ldx, int M, float *y,
                                                            int64_t ldy, int nb, int nrows, int kb, int kc, float *panel) {
    pack_panel<V, L, NV>(w, nb, nrows, kb, kc, panel);
    for (int m = 0; m < M; m += MR) {
        const int rows = M - m < MR ? M - m : MR;
        prefetch_x_rows(x + kb, ldx, m + MR, m + 2 * MR < M ? m + 2 * MR : M, kc);
        micro_rows<V, MR, NV>(rows, x + m * ldx + kb, ldx, panel, NV * V::W, V::W, kc, y + m * ldy + nb, ldy, nrows, kb == 0);
    }
}

// Row panels outer: y's MR x NR tiles stay in L2 while K goes by, and x is read once per
// row panel; each panel is packed once (M blocks outer would re-pack it per block).
template <class V, class L, int MR, int NV>
void gemm_float_t(const Matrix &w, const float *x, int64_t ldx, int M, float *y, int64_t ldy, int n0, int n1) {
    using S = GemmShape<V, NV>;
    alignas(64) float panel[S::KC * S::NR];
    const int K = w.cols;
    for (int nb = n0; nb < n1; nb += S::NR)
        for (int kb = 0; kb < K; kb += S::KC) {
            const int nrows = n1 - nb < S::NR ? n1 - nb : S::NR, kc = K - kb < S::KC ? K - kb : S::KC;
            panel_pass<V, L, MR, NV>(w, x, ldx, M, y, ldy, nb, nrows, kb, kc, panel);
        }
}

// Small M (decode): the same chains without the panel. NG groups of W rows at a time are
// loaded W columns at a time, transposed in registers and consumed at once, so the
// weights go from memory to the FMAs without a store and reload.
constexpr size_t kGemvAheadBytes = 32768;

template <class V, class L, int R, int NG>
void gemv_float_t(const Matrix &w, const float *x, int64_t ldx, float *y, int64_t ldy, int n0, int n1) {
    constexpr int W = V::W;
    const int K = w.cols;
    // A group of NG * W rows is one contiguous block read as NG * W short streams, too
    // many for the hardware prefetchers: while one group is computed, the block
    // kGemvAheadBytes further on is asked for into L2, in step with the progress through
    // this one (a lead in bytes, unlike a per-row one, stays far enough ahead whatever
    // the row length).
    // Float rows hold K elements of es bytes: the byte offset of k needs no division.
    const size_t rb = w.row_bytes, es = rb / static_cast<size_t>(K);
    const size_t step_bytes = es * static_cast<size_t>(NG * W * W); // block bytes consumed per k step
    const size_t group_bytes = rb * static_cast<size_t>(NG * W);
    const int ahead_rows = static_cast<int>((kGemvAheadBytes + group_bytes - 1) / group_bytes) * NG * W;
    for (int nb = n0; nb < n1; nb += NG * W) {
        typename V::T acc[R][NG];
        SM_UNROLL for (int r = 0; r < R; r++) SM_UNROLL for (int g = 0; g < NG; g++) acc[r][g] = V::zero();
        const bool full = n1 - nb >= NG * W;
        const uint8_t *row0 = w.row(nb);
        for (int k = 0; k < K; k += W) {
            const int nk = K - k < W ? K - k : W;
            { // past this task's rows, and past the matrix into the next one the loader placed
              // after it (bind_weights lays them out in the order they are used); a prefetch
              // never faults, whatever the address
                const size_t next = static_cast<size_t>(ahead_rows) * rb + step_bytes / W * static_cast<size_t>(k);
                for (size_t o = 0; o < step_bytes; o += 64) prefetch_ahead(row0, next + o);
            }
            SM_UNROLL for (int g = 0; g < NG; g++) {
                typename V::T t[W];
                if (full) { // the common case: every row of the tile exists
                    const uint8_t *base = row0 + static_cast<size_t>(g * W) * rb;
                    SM_UNROLL for (int i = 0; i < W; i++) t[i] = L::load(base + i * rb, k, nk);
                } else {
                    for (int i = 0; i < W; i++) {
                        const int n = nb + g * W + i;
                        t[i] = n < n1 ? L::load(w.row(n), k, nk) : V::zero();
                    }
                }
                V::transpose(t);
                SM_UNROLL for (int j = 0; j < W; j++) if (j < nk) SM_UNROLL for (int r = 0; r < R; r++)
                    acc[r][g] = V::fma(V::bcast(x + r * ldx + k + j), t[j], acc[r][g]);
            }
        }
        SM_UNROLL for (int r = 0; r < R; r++) SM_UNROLL for (int g = 0; g < NG; g++) {
            const int nv = n1 - nb - g * W;
            if (nv >= W) V::storeu(y + r * ldy + nb + g * W, acc[r][g]);
            else if (nv > 0) V::store_n(y + r * ldy + nb + g * W, acc[r][g], nv);
        }
    }
}

// ---- Weights in Layout::Rows8 (W = 8 only): each 8-row group is a k-major panel of
// its element type already. F32 groups are the GEMM's panels as they are; F16 / BF16
// groups only need converting (no transposes) into one. The GEMV reads one sequential
// stream per group. The same chains as above, so the same bits. Row ranges start on a
// group ([n0, n1) from whole 8-row groups; a partial last group is masked).

// F32 groups in place: two groups (16 outputs) per tile, one for an odd last group. K
// goes in balanced chunks of at most kRows8Chunk columns (two groups' chunk plus a
// tile's x rows stay in L2; no short last chunk of a few columns). No software
// prefetch: a tile reads two sequential streams and its x rows, which the hardware
// prefetchers follow; the F16 path's prefetches below would only compete with them.
constexpr int kRows8Chunk = 1024;

template <class V, int MR>
void gemm_rows8_f32_t(const Matrix &w, const float *x, int64_t ldx, int M, float *y, int64_t ldy, int n0, int n1) {
    const int K = w.cols, chunks = (K + kRows8Chunk - 1) / kRows8Chunk, KC = (K + chunks - 1) / chunks;
    const int64_t gfloats = static_cast<int64_t>(w.row_bytes / sizeof(float)) * 8; // one group
    for (int nb = n0; nb < n1; nb += 16) {
        const int nrows = n1 - nb < 16 ? n1 - nb : 16;
        const float *g = static_cast<const float *>(w.data) + static_cast<int64_t>(nb / 8) * gfloats;
        for (int kb = 0; kb < K; kb += KC) {
            const int kc = K - kb < KC ? K - kb : KC;
            const float *b = g + static_cast<int64_t>(kb) * 8;
            for (int m = 0; m < M; m += MR) {
                const int rows = M - m < MR ? M - m : MR;
                if (nrows > 8)
                    micro_rows<V, MR, 2>(rows, x + m * ldx + kb, ldx, b, 8, gfloats, kc, y + m * ldy + nb, ldy, nrows, kb == 0);
                else micro_rows<V, MR, 1>(rows, x + m * ldx + kb, ldx, b, 8, gfloats, kc, y + m * ldy + nb, ldy, nrows, kb == 0);
            }
        }
    }
}

// F16 / BF16 groups: each chunk of two groups converted into a KC x 16 panel, then the
// same tiles. While a chunk is computed, the next one (these groups' next KC columns, or
// the next two groups' first) is asked for into L2, a share per tile.
template <class V, class L, int MR>
void gemm_rows8_t(const Matrix &w, const float *x, int64_t ldx, int M, float *y, int64_t ldy, int n0, int n1) {
    constexpr int KC = GemmShape<V, 2>::KC;
    const int K = w.cols;
    const size_t gbytes = 8 * w.row_bytes, es = w.row_bytes / static_cast<size_t>(K); // group, element
    alignas(64) float panel[KC * 16];
    for (int nb = n0; nb < n1; nb += 16) {
        const int nrows = n1 - nb < 16 ? n1 - nb : 16, ng = nrows > 8 ? 2 : 1;
        const uint8_t *g = static_cast<const uint8_t *>(w.data) + static_cast<size_t>(nb / 8) * gbytes;
        for (int kb = 0; kb < K; kb += KC) {
            const int kc = K - kb < KC ? K - kb : KC;
            // Byte offsets from g: past the task's (or the matrix's) last group they name
            // memory a prefetch may touch but a pointer may not point to.
            const bool last = kb + KC >= K;
            const size_t nx = last ? 2 * gbytes : static_cast<size_t>(kb + KC) * 8 * es;
            const int nkc = last ? (K < KC ? K : KC) : (K - kb - KC < KC ? K - kb - KC : KC);
            const int lines = static_cast<int>(static_cast<size_t>(nkc) * 8 * es / 64), tiles = (M + MR - 1) / MR;
            for (int k = 0; k < kc; k++)
                for (int v = 0; v < ng; v++) V::storeu(panel + k * 16 + v * 8, L::load(g + v * gbytes, (kb + k) * 8, 8));
            int done = 0;
            for (int m = 0; m < M; m += MR) {
                const int rows = M - m < MR ? M - m : MR;
                const int upto = lines * (m / MR + 1) / tiles;
                for (; done < upto; done++) {
                    prefetch_ahead(g, nx + static_cast<size_t>(done) * 64);
                    prefetch_ahead(g, nx + gbytes + static_cast<size_t>(done) * 64);
                }
                prefetch_x_rows(x + kb, ldx, m + MR, m + 2 * MR < M ? m + 2 * MR : M, kc);
                if (ng == 2)
                    micro_rows<V, MR, 2>(rows, x + m * ldx + kb, ldx, panel, 16, 8, kc, y + m * ldy + nb, ldy, nrows, kb == 0);
                else micro_rows<V, MR, 1>(rows, x + m * ldx + kb, ldx, panel, 16, 8, kc, y + m * ldy + nb, ldy, nrows, kb == 0);
            }
        }
    }
}

// R rows of x over NG groups at a time: NG * R chains, NG sequential streams. No software
// prefetch: the hardware prefetchers follow a few sequential streams on their own, and
// asking for the next groups as gemv_float_t does only competes with them.
template <class V, class L, int R, int NG>
void gemv_rows8_t(const Matrix &w, const float *x, int64_t ldx, float *y, int64_t ldy, int n0, int n1) {
    const int K = w.cols;
    const size_t gbytes = 8 * w.row_bytes;
    for (int nb = n0; nb < n1; nb += 8 * NG) {
        const int left = (n1 - nb + 7) / 8, ng = left < NG ? left : NG;
        const uint8_t *g = static_cast<const uint8_t *>(w.data) + static_cast<size_t>(nb / 8) * gbytes;
        typename V::T acc[R][NG];
        SM_UNROLL for (int r = 0; r < R; r++) SM_UNROLL for (int j = 0; j < NG; j++) acc[r][j] = V::zero();
        for (int k = 0; k < K; k++) {
            SM_UNROLL for (int j = 0; j < NG; j++) {
                if (NG > 1 && j >= ng) break;
                const typename V::T b = L::load(g + j * gbytes, 8 * k, 8);
                SM_UNROLL for (int r = 0; r < R; r++) acc[r][j] = V::fma(V::bcast(x + r * ldx + k), b, acc[r][j]);
            }
        }
        SM_UNROLL for (int r = 0; r < R; r++) SM_UNROLL for (int j = 0; j < NG; j++) {
            const int nv = n1 - nb - j * 8;
            if (nv >= 8) V::storeu(y + r * ldy + nb + j * 8, acc[r][j]);
            else if (nv > 0) V::store_n(y + r * ldy + nb + j * 8, acc[r][j], nv);
        }
    }
}

template <class V, class L, int MR>
void matmul_rows8_t(const Matrix &w, const float *x, int64_t ldx, int M, float *y, int64_t ldy, int n0, int n1) {
    switch (M) {
    case 1: return gemv_rows8_t<V, L, 1, 4>(w, x, ldx, y, ldy, n0, n1);
    case 2: return gemv_rows8_t<V, L, 2, 4>(w, x, ldx, y, ldy, n0, n1);
    default:
        if constexpr (std::is_same<L, LoadF32<V>>::value) return gemm_rows8_f32_t<V, MR>(w, x, ldx, M, y, ldy, n0, n1);
        else return gemm_rows8_t<V, L, MR>(w, x, ldx, M, y, ldy, n0, n1);
    }
}

template <class V, class L, int MR, int NV>
void matmul_float_t(const Matrix &w, const float *x, int64_t ldx, int M, float *y, int64_t ldy, int n0, int n1) {
    switch (M) {
    case 1: return gemv_float_t<V, L, 1, 1>(w, x, ldx, y, ldy, n0, n1);
    case 2: return gemv_float_t<V, L, 2, 2>(w, x, ldx, y, ldy, n0, n1);
    default: return gemm_float_t<V, L, MR, NV>(w, x, ldx, M, y, ldy, n0, n1);
    }
}

// One float weight type in the matrix's layout (Rows8 only where W = 8).
template <class V, class L, int MR, int NV>
void matmul_layout_t(const Matrix &w, const float *x, int64_t ldx, int M, float *y, int64_t ldy, int n0, int n1) {
    if constexpr (V::W == 8)
        if (w.layout == Layout::Rows8) return matmul_rows8_t<V, L, MR>(w, x, ldx, M, y, ldy, n0, n1);
    matmul_float_t<V, L, MR, NV>(w, x, ldx, M, y, ldy, n0, n1);
}

// The float-activation matmul of every float weight type.
template <class V, int MR, int NV>
void gemm_float(const Matrix &w, const float *x, int64_t ldx, int M, float *y, int64_t ldy, int n0, int n1) {
    switch (w.type) {
    case TensorType::F32: matmul_layout_t<V, LoadF32<V>, MR, NV>(w, x, ldx, M, y, ldy, n0, n1); break;
    case TensorType::F16: matmul_layout_t<V, LoadF16<V>, MR, NV>(w, x, ldx, M, y, ldy, n0, n1); break;
    case TensorType::BF16: matmul_layout_t<V, LoadBF16<V>, MR, NV>(w, x, ldx, M, y, ldy, n0, n1); break;
    default: break;
    }
}

} // namespace
} // namespace sm::kern
