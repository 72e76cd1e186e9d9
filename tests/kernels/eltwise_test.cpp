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
