// Element-wise kernels over a vector traits type V (see gemm_float.h for the rules).
#pragma once
#include <cmath>
#include <cstdint>

namespace sm::kern {
namespace {

template <class V> void rmsnorm_v(float *out, const float *x, const float *weight, int n, float eps) {
    constexpr int W = V::W;
    typename V::T ss = V::zero();
    int i = 0;
    for (; i + W <= n; i += W) {
        const typename V::T v = V::loadu(x + i);
        ss = V::fma(v, v, ss);
    }
    if (i < n) {
        const typename V::T v = V::load_n(x + i, n - i);
        ss = V::fma(v, v, ss);
    }
    const float s = 1.0f / std::sqrt(V::hsum(ss) / static_cast<float>(n) + eps);
    const typename V::T sv = V::set1(s);
    for (i = 0; i + W <= n; i += W) V::storeu(out + i, V::mul(V::loadu(weight + i), V::mul(sv, V::loadu(x + i))));
    if (i < n) V::store_n(out + i, V::mul(V::load_n(weight + i, n - i), V::mul(sv, V::load_n(x + i, n - i))), n - i);
}

template <class V> void rope_v(float *x, int n_heads, int head_dim, const float *cs) {
    constexpr int W = V::W;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + static_cast<int64_t>(h) * head_dim;
        int i = 0;
        for (; i + W <= head_dim; i += W) V::storeu(v + i, V::rope(V::loadu(v + i), V::loadu(cs + i)));
        if (i < head_dim)
            V::store_n(v + i, V::rope(V::load_n(v + i, head_dim - i), V::load_n(cs + i, head_dim - i)), head_dim - i);
    }
}

// silu(g) * u = g / (1 + e^-g) * u
template <class V> typename V::T swiglu_vec(typename V::T g, typename V::T u) {
    const typename V::T e = V::exp(V::sub(V::zero(), g));
    return V::mul(V::div(g, V::add(V::set1(1.0f), e)), u);
}

template <class V> void swiglu_v(float *gate, const float *up, int n) {
    constexpr int W = V::W;
    int i = 0;
    for (; i + W <= n; i += W) V::storeu(gate + i, swiglu_vec<V>(V::loadu(gate + i), V::loadu(up + i)));
    if (i < n) V::store_n(gate + i, swiglu_vec<V>(V::load_n(gate + i, n - i), V::load_n(up + i, n - i)), n - i);
}

template <class V> void add_v(float *y, const float *x, int n) {
    constexpr int W = V::W;
    int i = 0;
    for (; i + W <= n; i += W) V::storeu(y + i, V::add(V::loadu(y + i), V::loadu(x + i)));
    if (i < n) V::store_n(y + i, V::add(V::load_n(y + i, n - i), V::load_n(x + i, n - i)), n - i);
}

} // namespace
} // namespace sm::kern
