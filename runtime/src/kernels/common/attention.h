// Flash-style attention over a vector traits type V (see gemm_float.h for the rules), on
// the blocked key layout of kernels.h (keys d-major in blocks of kKvBlock slots, values
// in rows).
//
// Rows are (query, head) pairs of one KV head, query-major (the heads of one query are
// neighbours: they see the same keys), taken up to kAttnRows at a time; each key tile is
// read once for all the rows of a batch that see part of it.
//
// Per row everything is fixed by the row's position alone (AttnArgs' tiles: the sinks,
// then window tiles aligned to n_sinks + multiples of kAttnTile); for its visible keys
// [j0, j1] of a tile:
//   score(j) = (e + o) * scale, e = chain over even d of fma(q[d], k_j[d], e),
//                               o = the same over odd d
//   m' = max(m, max score(j)); c = (m == -inf) ? 0 : exp(m - m'); p_j = exp(score(j) - m')
//   L   = fma(L, c, P): L and P vectors of W lanes, P the fixed pairwise tree over the
//         tile's kAttnTile / W vectors of p (lanes of keys not visible are +0)
//   acc = fma(acc, c, T): T the pairwise tree of U = V::kAttnKeyChains chains, chain u
//         = fma(p_j, v_j, .) over keys j = j0 + u, j0 + u + U, ... in increasing order
//   and at the end out = acc * (1 / hsum(L)).
// Rows of a batch share key and value loads but never each other's arithmetic, so a
// query gives the same bits alone or in a run, whatever the head range. Scores of keys a
// row cannot see (other rows' keys, padding slots, stale ring slots) may be computed but
// are masked before the max and exp: exp() only ever sees visible keys' scores, and
// values of invisible keys are never read.
#pragma once
#include "kernels/common/unroll.h"
#include "kernels/kernels.h"

#include <cmath>
#include <cstdint>

namespace sm::kern {
namespace {

constexpr int kMaxHeadDim = 512;
constexpr int kAttnRows = 8;

// Key / value elements: F32 as they are, F16 widened exactly.
template <class V, class E> struct KvLoad;
template <class V> struct KvLoad<V, float> {
    static typename V::T load(const float *p) { return V::loadu(p); }
    static typename V::T load_n(const float *p, int n) { return V::load_n(p, n); }
};
template <class V> struct KvLoad<V, uint16_t> {
    static typename V::T load(const uint16_t *p) { return V::f16(p); }
    static typename V::T load_n(const uint16_t *p, int n) { return V::f16_n(p, n); }
};

template <class V, class E> struct AttnBatch {
    using T = typename V::T;
    using Ld = KvLoad<V, E>;
    static constexpr int W = V::W;
    static constexpr int VB = kKvBlock / W;  // vectors per key block (one d)
    static constexpr int TV = kAttnTile / W; // vectors of scores per tile
    static constexpr int KB = kAttnTile / kKvBlock;
    static constexpr int U = V::kAttnKeyChains;
    static_assert(kKvBlock % W == 0 && kAttnTile % kKvBlock == 0, "tile geometry");

    // Key blocks per score micro-kernel for RC rows: two chains per (row, vector).
    static constexpr int bc_max(int rc) {
        const int b = V::kAccRegs / (rc * VB * 2);
        return b < 1 ? 1 : b > KB ? KB : b;
    }
    // Vectors of head_dim per value micro-kernel for RR rows: U chains per (row, vector).
    static constexpr int dv_max(int rr) {
        const int d = V::kAccRegs / (rr * U);
        return d < 1 ? 1 : d;
    }

    const AttnArgs &a;
    int hd = 0, nvec = 0, nrows = 0;
    int64_t bstride = 0; // elements per key block: hd * kKvBlock
    const E *kbase = nullptr, *vbase = nullptr;
    int64_t pos[kAttnRows], wlo[kAttnRows];
    const float *q[kAttnRows], *qs[kAttnRows];
    float *out[kAttnRows];
    float mx[kAttnRows], corr[kAttnRows];
    alignas(64) float lsum[kAttnRows][W];
    alignas(64) float sc[kAttnRows][kAttnTile];
    alignas(64) float acc[kAttnRows][kMaxHeadDim];

    explicit AttnBatch(const AttnArgs &args) : a(args) {}

    // ---- scores: sc[row][16 b ..] for key blocks [b0, b0 + BC) of the tile at kt.
    template <int RC, int BC> void score_blocks(const int *rows, const float *const *qv, const E *kt, int b0) {
        T e[RC][BC * VB], o[RC][BC * VB];
        SM_UNROLL for (int r = 0; r < RC; r++) SM_UNROLL for (int i = 0; i < BC * VB; i++) e[r][i] = o[r][i] = V::zero();
        const E *k0 = kt + b0 * bstride;
        const float *qr[RC];
        SM_UNROLL for (int r = 0; r < RC; r++) qr[r] = qv[r];
        int d = 0;
        SM_UNROLL_2 for (; d + 2 <= hd; d += 2) {
            const E *kd = k0 + d * kKvBlock;
            T k[BC * VB];
            SM_UNROLL for (int b = 0; b < BC; b++) {
                SM_UNROLL for (int v = 0; v < VB; v++) k[b * VB + v] = Ld::load(kd + b * bstride + v * W);
            }
            SM_UNROLL for (int i = 0; i < BC * VB; i++) SM_IN_REGISTER(k[i]);
            SM_UNROLL for (int r = 0; r < RC; r++) {
                const T qb = V::bcast(qr[r] + d);
                SM_UNROLL for (int i = 0; i < BC * VB; i++) e[r][i] = V::fma(qb, k[i], e[r][i]);
            }
            SM_UNROLL for (int b = 0; b < BC; b++) SM_UNROLL for (int v = 0; v < VB; v++)
                k[b * VB + v] = Ld::load(kd + kKvBlock + b * bstride + v * W);
            SM_UNROLL for (int i = 0; i < BC * VB; i++) SM_IN_REGISTER(k[i]);
            SM_UNROLL for (int r = 0; r < RC; r++) {
                const T qb = V::bcast(qr[r] + d + 1);
                SM_UNROLL for (int i = 0; i < BC * VB; i++) o[r][i] = V::fma(qb, k[i], o[r][i]);
            }
        }
        if (d < hd) {
            const E *kd = k0 + d * kKvBlock;
            SM_UNROLL for (int r = 0; r < RC; r++) {
                const T qb = V::bcast(qr[r] + d);
                SM_UNROLL for (int b = 0; b < BC; b++) SM_UNROLL for (int v = 0; v < VB; v++)
                    e[r][b * VB + v] = V::fma(qb, Ld::load(kd + b * bstride + v * W), e[r][b * VB + v]);
            }
        }
        const T sv = V::set1(a.scale);
        SM_UNROLL for (int r = 0; r < RC; r++) SM_UNROLL for (int i = 0; i < BC * VB; i++)
            V::storeu(&sc[rows[r]][b0 * kKvBlock + i * W], V::mul(V::add(e[r][i], o[r][i]), sv));
    }

    template <int RC> void score_rows(const int *rows, const float *const *qv, const E *kt, int blo, int bhi) {
        constexpr int BM = bc_max(RC);
        int b = blo;
        for (; b + BM <= bhi + 1; b += BM) score_blocks<RC, BM>(rows, qv, kt, b);
        const int left = bhi + 1 - b;
        if constexpr (BM > 1)
            if (left == 1) score_blocks<RC, 1>(rows, qv, kt, b);
        if constexpr (BM > 2)
            if (left == 2) score_blocks<RC, 2>(rows, qv, kt, b);
        if constexpr (BM > 3)
            if (left == 3) score_blocks<RC, 3>(rows, qv, kt, b);
    }

    // ---- online softmax of row b over its visible keys [j0, j1] (tile offsets): p to sc.
    void softmax(int b, int j0, int j1) {
        float *s = sc[b];
        const T ninf = V::set1(-INFINITY), z = V::zero();
        T mv = ninf;
        SM_UNROLL for (int i = 0; i < TV; i++) if (j0 < (i + 1) * W && j1 >= i * W)
            mv = V::max(mv, V::keep(V::loadu(s + i * W), j0 - i * W, j1 - i * W, ninf));
        const float tmax = V::hmax(mv), m = mx[b];
        const float nm = tmax > m ? tmax : m;
        float c = 0.0f;
        if (m != -INFINITY) {
            alignas(64) float t[W];
            V::storeu(t, V::exp(V::set1(m - nm)));
            c = t[0];
        }
        const T nmv = V::set1(nm);
        T p[TV];
        SM_UNROLL for (int i = 0; i < TV; i++) {
            if (j0 < (i + 1) * W && j1 >= i * W) {
                const int lo = j0 - i * W, hi = j1 - i * W;
                p[i] = V::keep(V::exp(V::keep(V::sub(V::loadu(s + i * W), nmv), lo, hi, z)), lo, hi, z);
                V::storeu(s + i * W, p[i]);
            } else {
                p[i] = z;
            }
        }
        SM_UNROLL for (int st = 1; st < TV; st *= 2) SM_UNROLL for (int i = 0; i + st < TV; i += 2 * st)
            p[i] = V::add(p[i], p[i + st]);
        V::storeu(lsum[b], V::fma(V::loadu(lsum[b]), V::set1(c), p[0]));
        mx[b] = nm;
        corr[b] = c;
    }

    // ---- values: acc[row][d0 .. d0 + DV W) of RR rows sharing the visible keys [j0, j1]
    // of the tile whose first value row is vt. Tail: the last vector has ntail lanes.
    template <int RR, int DV, bool Tail> struct VAcc { T ch[RR][U][DV]; };
    // Key j (value row vr) into chain u of every row.
    template <int RR, int DV, bool Tail, int u>
    static void value_key(VAcc<RR, DV, Tail> &c, const E *vr, const float *const *p, int j, int ntail) {
        T vv[DV];
        SM_UNROLL for (int i = 0; i < DV; i++) vv[i] = Tail && i == DV - 1 ? Ld::load_n(vr + i * W, ntail) : Ld::load(vr + i * W);
        if constexpr (RR > 1) SM_UNROLL for (int i = 0; i < DV; i++) SM_IN_REGISTER(vv[i]);
        SM_UNROLL for (int r = 0; r < RR; r++) {
            const T pb = V::bcast(p[r] + j);
            SM_UNROLL for (int i = 0; i < DV; i++) c.ch[r][u][i] = V::fma(pb, vv[i], c.ch[r][u][i]);
        }
    }

    // ---- values: acc[row][d0 .. d0 + DV W) of RR rows sharing the visible keys [j0, j1]
    // of the tile whose first value row is vt. Tail: the last vector has ntail lanes.
    template <int RR, int DV, bool Tail> void values_chunk(const int *rows, const E *vt, int j0, int j1, int d0, int ntail) {
        static_assert(U == 2 || U == 4, "key chains");
        VAcc<RR, DV, Tail> c;
        SM_UNROLL for (int r = 0; r < RR; r++) SM_UNROLL for (int u = 0; u < U; u++) SM_UNROLL for (int i = 0; i < DV; i++)
            c.ch[r][u][i] = V::zero();
        const float *p[RR];
        SM_UNROLL for (int r = 0; r < RR; r++) p[r] = sc[rows[r]];
        const int64_t h = hd;
        const E *vr = vt + j0 * h + d0;
        int j = j0;
        SM_UNROLL_2 for (; j + U - 1 <= j1; j += U, vr += U * h) {
            value_key<RR, DV, Tail, 0>(c, vr, p, j, ntail);
            value_key<RR, DV, Tail, 1>(c, vr + h, p, j + 1, ntail);
            if constexpr (U == 4) {
                value_key<RR, DV, Tail, 2>(c, vr + 2 * h, p, j + 2, ntail);
                value_key<RR, DV, Tail, 3>(c, vr + 3 * h, p, j + 3, ntail);
            }
        }
        // The last (j1 - j0 + 1) % U keys, chains 0.. in order.
        const int left = j1 - j + 1;
        if (left > 0) value_key<RR, DV, Tail, 0>(c, vr, p, j, ntail);
        if constexpr (U == 4) {
            if (left > 1) value_key<RR, DV, Tail, 1>(c, vr + h, p, j + 1, ntail);
            if (left > 2) value_key<RR, DV, Tail, 2>(c, vr + 2 * h, p, j + 2, ntail);
        }
        SM_UNROLL for (int r = 0; r < RR; r++) {
            const T cv = V::set1(corr[rows[r]]);
            SM_UNROLL for (int i = 0; i < DV; i++) {
                T t = U == 4 ? V::add(V::add(c.ch[r][0][i], c.ch[r][1][i]), V::add(c.ch[r][2 % U][i], c.ch[r][3 % U][i]))
                             : V::add(c.ch[r][0][i], c.ch[r][1 % U][i]);
                float *ac = acc[rows[r]] + d0 + i * W;
                V::storeu(ac, V::fma(V::loadu(ac), cv, t));
            }
        }
    }

    template <int RR, int DV> void values_n(int n, const int *rows, const E *vt, int j0, int j1, int d0, bool tail, int ntail) {
        if constexpr (DV > 1) {
            if (n < DV) return values_n<RR, DV - 1>(n, rows, vt, j0, j1, d0, tail, ntail);
        }
        if (tail) values_chunk<RR, DV, true>(rows, vt, j0, j1, d0, ntail);
        else values_chunk<RR, DV, false>(rows, vt, j0, j1, d0, ntail);
    }

    template <int RR> void values(const int *rows, const E *vt, int j0, int j1) {
        constexpr int DM = dv_max(RR);
        const int ntail = hd % W;
        for (int v = 0; v < nvec; v += DM) {
            const int n = nvec - v < DM ? nvec - v : DM;
            values_n<RR, DM>(n, rows, vt, j0, j1, v * W, ntail != 0 && v + n == nvec, ntail);
        }
    }

    // ---- one tile (keys from kt, values from vt) for the n rows act[], row act[i]
    // scoring with qv[i] and seeing tile offsets [j0[i], j1[i]].
    void tile(int n, const int *act, const float *const *qv, const int *j0, const int *j1, const E *kt, const E *vt) {
        int i = 0;
        for (; i + 2 <= n; i += 2) {
            const int lo = j0[i] < j0[i + 1] ? j0[i] : j0[i + 1], hi = j1[i] > j1[i + 1] ? j1[i] : j1[i + 1];
            score_rows<2>(act + i, qv + i, kt, lo / kKvBlock, hi / kKvBlock);
        }
        if (i < n) score_rows<1>(act + i, qv + i, kt, j0[i] / kKvBlock, j1[i] / kKvBlock);
        for (i = 0; i < n; i++) softmax(act[i], j0[i], j1[i]);
        for (i = 0; i < n;) {
            if (i + 1 < n && j0[i] == j0[i + 1] && j1[i] == j1[i + 1]) {
                values<2>(act + i, vt, j0[i], j1[i]);
                i += 2;
            } else {
                values<1>(act + i, vt, j0[i], j1[i]);
                i += 1;
            }
        }
    }

    void run() {
        const int hdp = nvec * W;
        for (int b = 0; b < nrows; b++) {
            mx[b] = -INFINITY;
            V::storeu(lsum[b], V::zero());
            for (int d = 0; d < hdp; d += W) V::storeu(acc[b] + d, V::zero());
        }
        int act[kAttnRows], j0[kAttnRows], j1[kAttnRows];
        const float *qv[kAttnRows];
        const int ns = a.n_sinks;
        // Window tiles [ns + kAttnTile t, + kAttnTile): kAttnTile ring slots from a block.
        int64_t tlo = -1, thi = -1;
        for (int b = 0; b < nrows; b++) {
            if (pos[b] >= ns) {
                const int64_t t0 = (wlo[b] - ns) / kAttnTile, t1 = (pos[b] - ns) / kAttnTile;
                tlo = tlo < 0 || t0 < tlo ? t0 : tlo;
                thi = t1 > thi ? t1 : thi;
            }
        }
        const int sink_slots = kv_sink_slots(ns);
        const int64_t ring = a.n_slots - sink_slots;
        auto slot_of = [&](int64_t t) { return sink_slots + (t * kAttnTile) % ring; };
        // The sinks: the first tile of every row, scored with q_sink past the window.
        if (ns > 0) {
            for (int b = 0; b < nrows; b++) {
                act[b] = b;
                qv[b] = pos[b] >= ns + a.window ? qs[b] : q[b];
                j0[b] = 0;
                j1[b] = pos[b] < ns - 1 ? static_cast<int>(pos[b]) : ns - 1;
            }
            tile(nrows, act, qv, j0, j1, kbase, vbase);
        }
        if (tlo < 0) return finish();
        for (int64_t t = tlo; t <= thi; t++) {
            const int64_t base = ns + t * kAttnTile, end = base + kAttnTile - 1;
            int n = 0;
            for (int b = 0; b < nrows; b++) {
                if (pos[b] < ns) continue;
                const int64_t lo = wlo[b] > base ? wlo[b] : base, hi = pos[b] < end ? pos[b] : end;
                if (lo > hi) continue;
                act[n] = b;
                qv[n] = q[b];
                j0[n] = static_cast<int>(lo - base);
                j1[n] = static_cast<int>(hi - base);
                n++;
            }
            if (n == 0) continue;
            const int64_t slot0 = slot_of(t);
            tile(n, act, qv, j0, j1, kbase + slot0 / kKvBlock * bstride, vbase + slot0 * hd);
        }
        finish();
    }

    void finish() {
        for (int b = 0; b < nrows; b++) {
            const T iv = V::set1(1.0f / V::hsum(V::loadu(lsum[b])));
            for (int d = 0; d < hd; d += W) {
                const int nd = hd - d < W ? hd - d : W;
                V::store_n(out[b] + d, V::mul(V::loadu(acc[b] + d), iv), nd);
            }
        }
    }
};

template <class V, class E> void attention_t(const AttnArgs &a, const E *k, const E *v, int h0, int h1) {
    const int group = a.n_heads / a.n_kv_heads;
    AttnBatch<V, E> blk(a);
    blk.hd = a.head_dim;
    blk.nvec = (a.head_dim + V::W - 1) / V::W;
    blk.bstride = static_cast<int64_t>(a.head_dim) * kKvBlock;
    for (int kvh = h0 / group; kvh <= (h1 - 1) / group; kvh++) {
        const int hs = h0 > kvh * group ? h0 : kvh * group, he = h1 < (kvh + 1) * group ? h1 : (kvh + 1) * group;
        const int nh = he - hs, total = nh * a.n_q;
        blk.kbase = k + k_index(kvh, 0, 0, a.head_dim, a.n_slots);
        blk.vbase = v + static_cast<int64_t>(kvh) * a.n_slots * a.head_dim;
        for (int i0 = 0; i0 < total; i0 += kAttnRows) {
            blk.nrows = total - i0 < kAttnRows ? total - i0 : kAttnRows;
            for (int b = 0; b < blk.nrows; b++) {
                const int r = (i0 + b) / nh, h = hs + (i0 + b) % nh;
                const int64_t p = a.pos0 + r;
                const bool past = p >= a.n_sinks + a.window;
                blk.pos[b] = p;
                blk.wlo[b] = past ? p - a.window + 1 : a.n_sinks;
                blk.q[b] = a.q + r * a.ldq + static_cast<int64_t>(h) * a.head_dim;
                blk.qs[b] = past ? a.q_sink + r * a.ldq + static_cast<int64_t>(h) * a.head_dim : blk.q[b];
                blk.out[b] = a.out + r * a.ldo + static_cast<int64_t>(h) * a.head_dim;
            }
            blk.run();
        }
    }
}

template <class V> void attention_v(const AttnArgs &a, int h0, int h1) {
    if (a.head_dim > kMaxHeadDim || a.head_dim <= 0 || a.n_q <= 0 || h0 >= h1) return;
    if (a.k16) attention_t<V, uint16_t>(a, a.k16, a.v16, h0, h1);
    else attention_t<V, float>(a, a.k, a.v, h0, h1);
}

} // namespace
} // namespace sm::kern
