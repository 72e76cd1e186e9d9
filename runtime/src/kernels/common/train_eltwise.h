// The training step's element-wise ops over a vector traits type V, instantiated inside
// each ISA's target region. Every element goes through the same vector arithmetic (tails
// by masked loads and stores, never a scalar loop), so its bits depend only on its inputs,
// not on where a row or a split of rows falls. Internal linkage.
#pragma once
#include <cstdint>

namespace sm::kern {
namespace {

// out = silu(g) u, h13 rows being [g | u] (2 x hidden floats).
template <class V> typename V::T swiglu_fwd_vec(typename V::T g, typename V::T u) {
    const typename V::T sg = V::div(V::set1(1.0f), V::add(V::set1(1.0f), V::exp(V::sub(V::zero(), g))));
    return V::mul(V::mul(g, sg), u);
}

template <class V> void swiglu_forward_v(float *out, const float *h13, int rows, int hidden) {
    constexpr int W = V::W;
    for (int r = 0; r < rows; r++) {
        const float *g = h13 + static_cast<int64_t>(r) * 2 * hidden, *u = g + hidden;
        float *o = out + static_cast<int64_t>(r) * hidden;
        for (int i = 0; i < hidden; i += W) {
            const int n = hidden - i < W ? hidden - i : W;
            V::store_n(o + i, swiglu_fwd_vec<V>(V::load_n(g + i, n), V::load_n(u + i, n)), n);
        }
    }
}

// d/du = d g sig(g),  d/dg = d u sig(g) (1 + g (1 - sig(g)))
template <class V> void swiglu_backward_v(float *dh13, const float *dout, const float *h13, int rows, int hidden) {
    constexpr int W = V::W;
    const typename V::T one = V::set1(1.0f);
    for (int r = 0; r < rows; r++) {
        const float *g = h13 + static_cast<int64_t>(r) * 2 * hidden, *u = g + hidden;
        const float *d = dout + static_cast<int64_t>(r) * hidden;
        float *dg = dh13 + static_cast<int64_t>(r) * 2 * hidden, *du = dg + hidden;
        for (int i = 0; i < hidden; i += W) {
            const int n = hidden - i < W ? hidden - i : W;
            const typename V::T gv = V::load_n(g + i, n), uv = V::load_n(u + i, n), dv = V::load_n(d + i, n);
            const typename V::T sg = V::div(one, V::add(one, V::exp(V::sub(V::zero(), gv))));
            V::store_n(du + i, V::mul(V::mul(dv, gv), sg), n);
            const typename V::T t = V::add(one, V::mul(gv, V::sub(one, sg)));
            V::store_n(dg + i, V::mul(V::mul(V::mul(dv, uv), sg), t), n);
        }
    }
}

} // namespace
} // namespace sm::kern
