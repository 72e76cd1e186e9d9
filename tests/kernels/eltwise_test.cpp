// Element-wise kernels of every SIMD table against the oracle and exact arithmetic.
#include "kernel_test_util.h"

using namespace kt;
using sm::kern::kRefKernels;

namespace {
const int kSizes[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 288, 768};
}

TEST_CASE("eltwise: add is exact in every table", "[kernels]") {
    for (const Kernels *k : simd_tables())
        for (int n : kSizes) {
            std::vector<float> x = randn(n + 1, n), y = randn(n + 2, n + 1), yr = y;
            k->add(y.data() + 1, x.data() + 1, n);
            kRefKernels.add(yr.data() + 1, x.data() + 1, n);
            CHECK(bits_equal(y.data(), yr.data(), y.size())); // including the untouched ends
        }
}

TEST_CASE("eltwise: rmsnorm matches the oracle", "[kernels]") {
    for (const Kernels *k : simd_tables())
        for (int n : kSizes) {
            INFO(k->name << " n=" << n);
            std::vector<float> x = randn(n + 1, n, 3.0f), w = randn(n + 1, n + 5), o(n + 2, 7.0f), orf(n + 2, 7.0f);
            k->rmsnorm(o.data() + 1, x.data() + 1, w.data() + 1, n, 1e-5f);
            kRefKernels.rmsnorm(orf.data() + 1, x.data() + 1, w.data() + 1, n, 1e-5f);
            // Sum of squares: n roundings in each order -> relative n u; the inverse square
            // root halves it; three more roundings after. Bound (n + 8) u |out|.
            for (int i = 0; i < n + 2; i++) {
                const double tol = (n + 8) * kU * std::fabs(orf[i]) + 1e-30;
                CHECK(std::fabs(o[i] - orf[i]) <= tol);
            }
        }
}

TEST_CASE("eltwise: rope matches the oracle", "[kernels]") {
    for (const Kernels *k : simd_tables())
        for (int hd : {2, 4, 8, 16, 18, 32, 48, 64, 128}) {
            INFO(k->name << " head_dim=" << hd);
            const int nh = 3;
            std::vector<float> x = randn(nh * hd + 1, hd), xr = x, cs(hd);
            for (int i = 0; i < hd / 2; i++) {
                cs[2 * i] = std::cos(0.37f * (i + 1));
                cs[2 * i + 1] = std::sin(0.37f * (i + 1));
            }
            std::vector<float> in = x;
            k->rope(x.data() + 1, nh, hd, cs.data());
            kRefKernels.rope(xr.data() + 1, nh, hd, cs.data());
            // a c - b s (and a s + b c): two products and a sum, fused or not: each evaluation is
            // within 2 u (|a c| + |b s|) of exact, so the two within 4 u of each other.
            for (int h = 0; h < nh; h++)
                for (int i = 0; i < hd; i += 2) {
                    const int at = 1 + h * hd + i;
                    const double a = in[at], b = in[at + 1], c = cs[i], s = cs[i + 1];
                    const double tol0 = 4 * kU * (std::fabs(a * c) + std::fabs(b * s)) + 1e-30;
                    const double tol1 = 4 * kU * (std::fabs(a * s) + std::fabs(b * c)) + 1e-30;
                    CHECK(std::fabs(static_cast<double>(x[at]) - xr[at]) <= tol0);
                    CHECK(std::fabs(static_cast<double>(x[at + 1]) - xr[at + 1]) <= tol1);
                }
            CHECK(x[0] == in[0]);
        }
}

TEST_CASE("eltwise: swiglu is within a few ulp of exact, vectorised exp included", "[kernels]") {
    for (const Kernels *k : simd_tables())
        for (int n : kSizes) {
            INFO(k->name << " n=" << n);
            std::vector<float> g = randn(n + 1, n, 6.0f), u = randn(n + 1, n + 3);
            if (n > 4) {
                g[1] = -90.0f; // exp(90) overflows or clamps: silu -> -0 or tiny
                g[2] = 90.0f;
                g[3] = 0.0f;
            }
            std::vector<float> gs = g, gr = g;
            k->swiglu(gs.data() + 1, u.data() + 1, n);
            kRefKernels.swiglu(gr.data() + 1, u.data() + 1, n);
            for (int i = 1; i <= n; i++) {
                const double x = g[i];
                const double exact = x / (1.0 + std::exp(-x)) * u[i];
                // exp within 2 ulp (Cephes polynomial, reduction error below 1 ulp), then an
                // add, a divide and a multiply: 8 u relative with room; 1e-30 absolute for
                // the clamped exp of very negative inputs (the true value is below 1e-37).
                const double tol = 8 * kU * std::fabs(exact) + 1e-30;
                CHECK(std::fabs(gs[i] - exact) <= tol);
                CHECK(std::fabs(gr[i] - exact) <= tol);
            }
        }
}

TEST_CASE("eltwise: layernorm is within its error bound of exact, with and without bias", "[kernels]") {
    std::vector<const Kernels *> tabs = simd_tables();
    tabs.push_back(&kRefKernels);
    for (const Kernels *k : tabs)
        for (int n : kSizes)
            for (bool with_bias : {true, false}) {
                INFO(k->name << " n=" << n << " bias=" << with_bias);
                std::vector<float> x = randn(n + 1, n, 3.0f), w = randn(n + 1, n + 5), b = randn(n + 1, n + 9), o(n + 2, 7.0f);
                for (float &v : x) v += 2.0f; // a mean well away from 0
                k->layernorm(o.data() + 1, x.data() + 1, w.data() + 1, with_bias ? b.data() + 1 : nullptr, n, 1e-5f);
                double mean = 0, abs_mean = 0, var = 0;
                for (int i = 1; i <= n; i++) mean += x[i], abs_mean += std::fabs(x[i]);
                mean /= n;
                abs_mean /= n;
                for (int i = 1; i <= n; i++) var += (x[i] - mean) * (x[i] - mean);
                const double r = 1.0 / std::sqrt(var / n + 1e-5);
                // The mean carries n roundings of the sum of |x|; the variance n more (its
                // first-order error from the mean cancels: the deviations sum to 0), halved by
                // the square root; then a few roundings per output. Bound (n + 10) u of the
                // magnitudes involved.
                for (int i = 1; i <= n; i++) {
                    const double bi = with_bias ? b[i] : 0.0, d = x[i] - mean;
                    const double exact = w[i] * r * d + bi;
                    const double tol = (n + 10) * kU * (std::fabs(w[i]) * r * (abs_mean + std::fabs(d)) + std::fabs(exact) + std::fabs(bi)) + 1e-30;
                    CHECK(std::fabs(o[i] - exact) <= tol);
                }
                CHECK(o[0] == 7.0f); // nothing written outside [0, n)
                CHECK(o[n + 1] == 7.0f);
            }
}

TEST_CASE("eltwise: gelu is within a few ulp of exact, vectorised exp included", "[kernels]") {
    std::vector<const Kernels *> tabs = simd_tables();
    tabs.push_back(&kRefKernels);
    for (const Kernels *k : tabs)
        for (int n : kSizes) {
            INFO(k->name << " n=" << n);
            std::vector<float> x = randn(n + 2, n, 3.0f);
            if (n > 6) {
                x[1] = -90.0f; // e^(-2u) overflows (or clamps): the result is -0 or tiny
                x[2] = 90.0f;
                x[3] = 0.0f;
                x[4] = -6.0f;
                x[5] = 12.0f;
            }
            std::vector<float> y = x;
            k->gelu(y.data() + 1, n);
            for (int i = 1; i <= n; i++) {
                const double v = x[i], u = std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v);
                // 0.5 v (1 + tanh u), as v / (1 + e^(-2u)): 1 + tanh u cancels in double too
                const double exact = v / (1.0 + std::exp(-2.0 * u));
                // u in float carries ~4 roundings, which e^(-2u) turns into 8 |u| u relative;
                // exp's 2 ulp, an add and a divide: (8 |u| + 8) u with room.
                const double tol = (8 * std::fabs(u) + 8) * kU * std::fabs(exact) + 1e-30;
                CHECK(std::fabs(y[i] - exact) <= tol);
            }
            CHECK(y[0] == x[0]);
            CHECK(y[n + 1] == x[n + 1]);
        }
}
