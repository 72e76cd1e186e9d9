// Flash-style attention over a vector traits type V (see gemm_float.h for the rules).
//
// Rows are (query, head) pairs of one KV head, taken kRows at a time so that one
// transposed copy of each key chunk (kt, d-major) serves them all: scores are then an
// outer product, q broadcast along d. Per row, everything follows AttnArgs' definition:
//   score(j)  = (chain over d of fma(q[d], k_j[d], s)) * scale
//   per tile  m' = max(m, max visible scores); c = exp(m - m');
//             sum = sum * c, then + p_j for visible j in increasing order;
//             acc = acc * c, then fma(p_j, v_j, acc) for visible j in increasing order,
//   with p_j = exp(score(j) - m'); out = acc * (1 / sum).
// A row's operations never depend on the other rows of its block, so a query gives the
// same bits alone or in a run, and exp() is evaluated only on visible keys' scores.
#pragma once
#include "kernels/kernels.h"

#include <cmath>
#include <cstdint>

namespace sm::kern {
namespace {

constexpr int kMaxHeadDim = 512;
constexpr int kAttnRows = 8;

template <class V> struct AttnBlock {
    static constexpr int W = V::W;
    const AttnArgs &a;
    int kvh, nrows, hdp;
    const float *q[kAttnRows], *qs[kAttnRows];
    float *out[kAttnRows];
    int64_t lo[kAttnRows], hi[kAttnRows];
    bool past[kAttnRows];
    float mx[kAttnRows], sum[kAttnRows];
    alignas(64) float sc[kAttnRows][kAttnTile];
    alignas(64) float acc[kAttnRows][kMaxHeadDim];
    alignas(64) float kt[kMaxHeadDim * W];

    explicit AttnBlock(const AttnArgs &args) : a(args) {}

    const float *krow(int64_t j) const { return a.k + (static_cast<int64_t>(kvh) * a.n_slots + attn_slot(j, a.n_sinks, a.n_slots)) * a.head_dim; }
    const float *vrow(int64_t j) const { return a.v + (static_cast<int64_t>(kvh) * a.n_slots + attn_slot(j, a.n_sinks, a.n_slots)) * a.head_dim; }

    // kt[d][i] = k_{c0 + i}[d] for i < nk (zero beyond).
    void load_keys(int64_t c0, int nk) {
        const int hd = a.head_dim;
        typename V::T r[W];
        for (int dd = 0; dd < hd; dd += W) {
            const int nd = hd - dd < W ? hd - dd : W;
            for (int i = 0; i < W; i++) r[i] = i < nk ? V::load_n(krow(c0 + i) + dd, nd) : V::zero();
            V::transpose(r);
            for (int t = 0; t < nd; t++) V::storeu(kt + (dd + t) * W, r[t]);
        }
    }

    // sc[b][c0 - base ..] = scores of keys c0 .. c0 + nk - 1 for every row, using qv[b].
    void scores(const float *const *qv, int64_t base, int64_t c0, int nk) {
        const int hd = a.head_dim;
        const typename V::T scale = V::set1(a.scale);
        for (int b0 = 0; b0 < nrows; b0 += 4) {
            const float *q4[4];
            for (int i = 0; i < 4; i++) q4[i] = qv[b0 + i < nrows ? b0 + i : b0];
            typename V::T s[4] = {V::zero(), V::zero(), V::zero(), V::zero()};
            for (int d = 0; d < hd; d++) {
                const typename V::T kv = V::loadu(kt + d * W);
                for (int i = 0; i < 4; i++) s[i] = V::fma(V::bcast(q4[i] + d), kv, s[i]);
            }
            for (int i = 0; i < 4 && b0 + i < nrows; i++) V::store_n(&sc[b0 + i][c0 - base], V::mul(s[i], scale), nk);
        }
    }

    // Online-softmax update of row b with its visible keys [j0, j1] of the tile at base.
    void fold(int b, int64_t base, int64_t j0, int64_t j1) {
        float *s = &sc[b][j0 - base];
        const int n = static_cast<int>(j1 - j0 + 1);
        float tmax = -INFINITY;
        for (int i = 0; i < n; i++) tmax = s[i] > tmax ? s[i] : tmax;
        const float nm = tmax > mx[b] ? tmax : mx[b];
        float corr = 0.0f;
        if (mx[b] != -INFINITY) {
            alignas(64) float t[W];
            V::storeu(t, V::exp(V::set1(mx[b] - nm)));
            corr = t[0];
        }
        for (int i = 0; i < n; i += W) {
            const int nn = n - i < W ? n - i : W;
            V::store_n(s + i, V::exp(V::sub(V::load_n(s + i, nn), V::set1(nm))), nn);
        }
        float sm = sum[b] * corr;
        for (int i = 0; i < n; i++) sm += s[i];
        sum[b] = sm;
        mx[b] = nm;
        // acc = acc * corr, then fma(p_j, v_j, acc); four d-chunks at a time for latency.
        const int hd = a.head_dim;
        const typename V::T cv = V::set1(corr);
        for (int dd = 0; dd < hd; dd += 4 * W) {
            typename V::T ac[4];
            int nd[4];
            for (int c = 0; c < 4; c++) {
                const int rem = hd - dd - c * W;
                nd[c] = rem < 0 ? 0 : rem < W ? rem : W;
                ac[c] = V::mul(V::loadu(acc[b] + (dd + c * W < hdp ? dd + c * W : 0)), cv);
            }
            for (int i = 0; i < n; i++) {
                const float *vr = vrow(j0 + i) + dd;
                const typename V::T p = V::bcast(s + i);
                for (int c = 0; c < 4; c++)
                    if (nd[c] == W) ac[c] = V::fma(p, V::loadu(vr + c * W), ac[c]);
                    else if (nd[c] > 0) ac[c] = V::fma(p, V::load_n(vr + c * W, nd[c]), ac[c]);
            }
            for (int c = 0; c < 4; c++)
                if (nd[c] > 0) V::storeu(acc[b] + dd + c * W, ac[c]);
        }
    }

    // Keys [k0, k1] of the tile starting at base; row b sees [rlo[b], rhi[b]] of them.
    void tile(const float *const *qv, int64_t base, int64_t k0, int64_t k1, const int64_t *rlo, const int64_t *rhi) {
        for (int64_t c0 = k0; c0 <= k1; c0 += W) {
            const int nk = k1 - c0 + 1 < W ? static_cast<int>(k1 - c0 + 1) : W;
            load_keys(c0, nk);
            scores(qv, base, c0, nk);
        }
        for (int b = 0; b < nrows; b++)
            if (rlo[b] <= rhi[b]) fold(b, base, rlo[b], rhi[b]);
    }

    void run() {
        for (int b = 0; b < nrows; b++) {
            mx[b] = -INFINITY;
            sum[b] = 0.0f;
            for (int d = 0; d < hdp; d++) acc[b][d] = 0.0f;
        }
        int64_t rlo[kAttnRows], rhi[kAttnRows];
        // The sinks: one tile of their own, scored with q_sink, for rows past the window.
        bool any_past = false;
        for (int b = 0; b < nrows; b++) any_past |= past[b];
        if (a.n_sinks > 0 && any_past) {
            for (int b = 0; b < nrows; b++) {
                rlo[b] = past[b] ? 0 : 1;
                rhi[b] = past[b] ? a.n_sinks - 1 : 0;
            }
            tile(qs, 0, 0, a.n_sinks - 1, rlo, rhi);
        }
        // The rest in tiles aligned to absolute multiples of kAttnTile.
        int64_t first = lo[0], last = hi[0];
        for (int b = 1; b < nrows; b++) {
            first = lo[b] < first ? lo[b] : first;
            last = hi[b] > last ? hi[b] : last;
        }
        for (int64_t base = first / kAttnTile * kAttnTile; base <= last; base += kAttnTile) {
            const int64_t tend = base + kAttnTile - 1;
            int64_t k0 = tend, k1 = base;
            for (int b = 0; b < nrows; b++) {
                rlo[b] = lo[b] > base ? lo[b] : base;
                rhi[b] = hi[b] < tend ? hi[b] : tend;
                if (rlo[b] <= rhi[b]) {
                    k0 = rlo[b] < k0 ? rlo[b] : k0;
                    k1 = rhi[b] > k1 ? rhi[b] : k1;
                }
            }
            if (k0 <= k1) tile(q, base, k0, k1, rlo, rhi);
        }
        for (int b = 0; b < nrows; b++) {
            const float inv = 1.0f / sum[b];
            const typename V::T iv = V::set1(inv);
            const int hd = a.head_dim;
            for (int d = 0; d < hd; d += W) {
                const int nd = hd - d < W ? hd - d : W;
                V::store_n(out[b] + d, V::mul(V::loadu(acc[b] + d), iv), nd);
            }
        }
    }
};

template <class V> void attention_v(const AttnArgs &a, int h0, int h1) {
    if (a.head_dim > kMaxHeadDim || a.n_q <= 0 || h0 >= h1) return;
    const int group = a.n_heads / a.n_kv_heads;
    AttnBlock<V> blk(a);
    blk.hdp = (a.head_dim + V::W - 1) / V::W * V::W;
    for (int kvh = h0 / group; kvh <= (h1 - 1) / group; kvh++) {
        const int hs = h0 > kvh * group ? h0 : kvh * group, he = h1 < (kvh + 1) * group ? h1 : (kvh + 1) * group;
        const int total = (he - hs) * a.n_q;
        blk.kvh = kvh;
        for (int i0 = 0; i0 < total; i0 += kAttnRows) {
            blk.nrows = total - i0 < kAttnRows ? total - i0 : kAttnRows;
            for (int b = 0; b < blk.nrows; b++) {
                const int h = hs + (i0 + b) / a.n_q, r = (i0 + b) % a.n_q;
                const int64_t p = a.pos0 + r;
                blk.past[b] = p >= a.n_sinks + a.window;
                blk.lo[b] = blk.past[b] ? p - a.window + 1 : 0;
                blk.hi[b] = p;
                blk.q[b] = a.q + r * a.ldq + static_cast<int64_t>(h) * a.head_dim;
                blk.qs[b] = blk.past[b] ? a.q_sink + r * a.ldq + static_cast<int64_t>(h) * a.head_dim : blk.q[b];
                blk.out[b] = a.out + r * a.ldo + static_cast<int64_t>(h) * a.head_dim;
            }
            blk.run();
        }
    }
}

} // namespace
} // namespace sm::kern
