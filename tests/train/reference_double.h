// The Llama forward and its loss in double precision, written from the equations and
// sharing no code with runtime/src/train: the outside arithmetic the backward passes
// are checked against by central finite differences.
#pragma once
#include "train/model.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

namespace trt {

using Vec = std::vector<double>;

inline Vec to_double(const std::vector<float> &v) { return Vec(v.begin(), v.end()); }

inline std::vector<float> randf(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 g(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto &x : v) x = d(g);
    return v;
}

// y[m][n] = sum_k x[m][k] W[n][k]
inline Vec matmul(const Vec &x, const Vec &W, int M, int N, int K, size_t xoff = 0, size_t woff = 0) {
    Vec y(static_cast<size_t>(M) * N, 0.0);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += x[xoff + m * K + k] * W[woff + static_cast<size_t>(n) * K + k];
            y[static_cast<size_t>(m) * N + n] = s;
        }
    return y;
}

inline Vec rmsnorm(const Vec &x, const Vec &w, int rows, int dim, double eps, size_t woff = 0) {
    Vec y(x.size());
    for (int r = 0; r < rows; r++) {
        double ss = 0;
        for (int i = 0; i < dim; i++) ss += x[r * dim + i] * x[r * dim + i];
        const double s = 1.0 / std::sqrt(ss / dim + eps);
        for (int i = 0; i < dim; i++) y[r * dim + i] = x[r * dim + i] * s * w[woff + i];
    }
    return y;
}

// adjacent pairs of each head, angle t * theta^(-2j / hd), row r at position r % T
inline void rope(Vec &x, int rows, int T, int n_heads, int hd, double theta) {
    const int width = n_heads * hd;
    for (int r = 0; r < rows; r++)
        for (int h = 0; h < n_heads; h++)
            for (int j = 0; j < hd / 2; j++) {
                const double a = (r % T) * std::pow(theta, -2.0 * j / hd);
                const double c = std::cos(a), s = std::sin(a);
                double &u = x[r * width + h * hd + 2 * j], &v = x[r * width + h * hd + 2 * j + 1];
                const double u0 = u, v0 = v;
                u = u0 * c - v0 * s;
                v = u0 * s + v0 * c;
            }
}

// q: rows x (nh * hd), k, v: rows x (nkv * hd); out rows x (nh * hd)
inline Vec attention(const Vec &q, const Vec &k, const Vec &v, int B, int T, int nh, int nkv, int hd) {
    Vec out(static_cast<size_t>(B) * T * nh * hd, 0.0);
    const int group = nh / nkv;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < nh; h++)
            for (int t = 0; t < T; t++) {
                std::vector<double> s(t + 1);
                double mx = -1e300;
                for (int u = 0; u <= t; u++) {
                    double d = 0;
                    for (int i = 0; i < hd; i++)
                        d += q[((b * T + t) * nh + h) * hd + i] * k[((b * T + u) * nkv + h / group) * hd + i];
                    s[u] = d / std::sqrt(static_cast<double>(hd));
                    mx = std::max(mx, s[u]);
                }
                double z = 0;
                for (auto &e : s) z += (e = std::exp(e - mx));
                for (int u = 0; u <= t; u++)
                    for (int i = 0; i < hd; i++)
                        out[((b * T + t) * nh + h) * hd + i] += s[u] / z * v[((b * T + u) * nkv + h / group) * hd + i];
            }
    return out;
}

// rows of [gate | up] -> silu(gate) * up
inline Vec swiglu(const Vec &h13, int rows, int H) {
    Vec o(static_cast<size_t>(rows) * H);
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < H; i++) {
            const double g = h13[r * 2 * H + i];
            o[r * H + i] = g / (1.0 + std::exp(-g)) * h13[r * 2 * H + H + i];
        }
    return o;
}

// sum over rows with a target of -log softmax(logits)[target]
inline double crossentropy(const Vec &logits, const std::vector<int32_t> &targets, int rows, int V) {
    double total = 0;
    for (int r = 0; r < rows; r++) {
        if (targets[r] < 0) continue;
        double mx = -1e300;
        for (int i = 0; i < V; i++) mx = std::max(mx, logits[r * V + i]);
        double z = 0;
        for (int i = 0; i < V; i++) z += std::exp(logits[r * V + i] - mx);
        total += std::log(z) + mx - logits[r * V + targets[r]];
    }
    return total;
}

// Mean next-token loss of the whole model over the rows with a target.
inline double model_loss(const sm::train::ParamLayout &p, const Vec &P, const std::vector<int32_t> &tokens,
                         const std::vector<int32_t> &targets, int B, int T) {
    const sm::Hparams &hp = p.hp();
    const int R = B * T, D = hp.dim, H = hp.hidden_dim, QD = hp.q_dim(), KVD = hp.kv_dim();
    Vec x(static_cast<size_t>(R) * D);
    for (int r = 0; r < R; r++)
        for (int i = 0; i < D; i++) x[r * D + i] = P[p.tok_embd() + static_cast<size_t>(tokens[r]) * D + i];
    for (int l = 0; l < hp.n_layers; l++) {
        const auto &L = p.layer(l);
        Vec xn = rmsnorm(x, P, R, D, hp.norm_eps, L.attn_norm);
        Vec q = matmul(xn, P, R, QD, D, 0, L.wqkv);
        Vec k = matmul(xn, P, R, KVD, D, 0, L.wqkv + static_cast<size_t>(QD) * D);
        Vec v = matmul(xn, P, R, KVD, D, 0, L.wqkv + static_cast<size_t>(QD + KVD) * D);
        rope(q, R, T, hp.n_heads, hp.head_dim, hp.rope_theta);
        rope(k, R, T, hp.n_kv_heads, hp.head_dim, hp.rope_theta);
        Vec a = attention(q, k, v, B, T, hp.n_heads, hp.n_kv_heads, hp.head_dim);
        Vec o = matmul(a, P, R, D, QD, 0, L.wo);
        for (size_t i = 0; i < x.size(); i++) x[i] += o[i];
        xn = rmsnorm(x, P, R, D, hp.norm_eps, L.ffn_norm);
        Vec h13 = matmul(xn, P, R, 2 * H, D, 0, L.w13);
        Vec hs = swiglu(h13, R, H);
        Vec f = matmul(hs, P, R, D, H, 0, L.w2);
        for (size_t i = 0; i < x.size(); i++) x[i] += f[i];
    }
    Vec xn = rmsnorm(x, P, R, D, hp.norm_eps, p.output_norm());
    Vec logits = matmul(xn, P, R, hp.n_vocab, D, 0, p.output());
    int valid = 0;
    for (int r = 0; r < R; r++) valid += targets[r] >= 0;
    return crossentropy(logits, targets, R, hp.n_vocab) / valid;
}

// Central difference of f at coordinate i of x (restored afterwards).
inline double central_diff(Vec &x, size_t i, double h, const std::function<double()> &f) {
    const double x0 = x[i];
    x[i] = x0 + h;
    const double up = f();
    x[i] = x0 - h;
    const double down = f();
    x[i] = x0;
    return (up - down) / (2 * h);
}

} // namespace trt
