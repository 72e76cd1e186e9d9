// Every training op's backward against central finite differences of the double
// precision forward in reference_double.h, on small odd shapes (T = 1 and T = 17, GQA
// with 2 query heads per KV head). Each check differentiates f = sum(c * out) for a
// random c, so the backward is run with dout = c.
#include <catch2/catch.hpp>

#include "core/cpu.h"
#include "kernels/tables.h"
#include "kernels/train_kernels.h"
#include "reference_double.h"
#include "../kernels/train_tables.h"
#include "train/ops.h"

#include <algorithm>

using namespace sm::train;
using trt::Vec;

namespace {

double dot(const Vec &a, const std::vector<float> &c) {
    double s = 0;
    for (size_t i = 0; i < a.size(); i++) s += a[i] * c[i];
    return s;
}

// analytic[i] against the central difference of f at every coordinate of x.
void check_grad(const char *what, Vec &x, const std::vector<float> &analytic, const std::function<double()> &f) {
    REQUIRE(analytic.size() == x.size());
    std::vector<double> fd(x.size());
    double scale = 1e-3;
    for (size_t i = 0; i < x.size(); i++) {
        fd[i] = trt::central_diff(x, i, 1e-6, f);
        scale = std::max(scale, std::fabs(fd[i]));
    }
    int bad = 0;
    for (size_t i = 0; i < x.size(); i++) {
        const double err = std::fabs(analytic[i] - fd[i]);
        if (err > 2e-4 * scale + 1e-3 * std::fabs(fd[i])) {
            if (bad++ < 5) UNSCOPED_INFO(what << "[" << i << "]: backward " << analytic[i] << ", finite difference " << fd[i]);
        }
    }
    CHECK(bad == 0);
}

std::vector<float> to_float(const Vec &v) { return std::vector<float>(v.begin(), v.end()); }

std::vector<const sm::kern::Kernels *> tables() {
    const sm::kern::Kernels *all[16];
    const int n = sm::kern::all_tables(all, 16);
    const sm::CpuFeatures f = sm::detect_cpu();
    std::vector<const sm::kern::Kernels *> out;
    for (int i = 0; i < n; i++)
        if (sm::kern::can_run(*all[i], f)) out.push_back(all[i]);
    return out;
}

} // namespace

TEST_CASE("train ops: matmul backward against finite differences", "[train][ops]") {
    const int N = 13, K = 19;
    for (const sm::kern::Kernels *k : tables()) {
        for (int M : {1, 17}) {
            INFO(k->name << ", M = " << M);
            Compute c{k, nullptr, sm::kern::train_kernels_for(k->isa)};
            Vec x = trt::to_double(trt::randf(static_cast<size_t>(M) * K, 1));
            Vec W = trt::to_double(trt::randf(static_cast<size_t>(N) * K, 2, 0.3f));
            const std::vector<float> cw = trt::randf(static_cast<size_t>(M) * N, 3);
            std::vector<float> xf = to_float(x), Wf = to_float(W), y(static_cast<size_t>(M) * N);
            matmul_forward(c, y.data(), N, xf.data(), K, Wf.data(), M, N, K);
            const Vec yd = trt::matmul(x, W, M, N, K);
            for (size_t i = 0; i < y.size(); i++) CHECK(y[i] == Approx(yd[i]).margin(1e-5));

            std::vector<float> dx(static_cast<size_t>(M) * K), dW(static_cast<size_t>(N) * K);
            std::vector<float> dws(N * K);
            MatmulScratch s{dws.data()};
            matmul_backward(c, dx.data(), K, dW.data(), false, cw.data(), N, xf.data(), K, Wf.data(), M, N, K, s);
            check_grad("dx", x, dx, [&] { return dot(trt::matmul(x, W, M, N, K), cw); });
            check_grad("dW", W, dW, [&] { return dot(trt::matmul(x, W, M, N, K), cw); });

            // accumulating adds the same product to what is there
            std::vector<float> acc(dW.size(), 0.5f);
            matmul_backward(c, nullptr, K, acc.data(), true, cw.data(), N, xf.data(), K, Wf.data(), M, N, K, s);
            for (size_t i = 0; i < acc.size(); i++) CHECK(acc[i] == 0.5f + dW[i]);
        }
    }
}

TEST_CASE("train ops: rmsnorm backward against finite differences", "[train][ops]") {
    for (int rows : {1, 17}) {
        const int dim = 19;
        const float eps = 1e-5f;
        Vec x = trt::to_double(trt::randf(static_cast<size_t>(rows) * dim, 4));
        Vec w = trt::to_double(trt::randf(dim, 5));
        const std::vector<float> cw = trt::randf(x.size(), 6);
        std::vector<float> xf = to_float(x), wf = to_float(w), out(x.size()), rstd(rows);
        rmsnorm_forward(out.data(), rstd.data(), xf.data(), wf.data(), rows, dim, eps);
        const Vec od = trt::rmsnorm(x, w, rows, dim, eps);
        for (size_t i = 0; i < out.size(); i++) CHECK(out[i] == Approx(od[i]).margin(1e-5));
        std::vector<float> dx(x.size(), 0.0f), dw(dim, 0.0f);
        rmsnorm_backward(dx.data(), dw.data(), cw.data(), xf.data(), wf.data(), rstd.data(), rows, dim);
        auto f = [&] { return dot(trt::rmsnorm(x, w, rows, dim, eps), cw); };
        check_grad("dx", x, dx, f);
        check_grad("dw", w, dw, f);
    }
}

TEST_CASE("train ops: rope backward against finite differences", "[train][ops]") {
    for (int T : {1, 17}) {
        const int B = 2, rows = B * T, nh = 3, hd = 6;
        const float theta = 10000.0f;
        std::vector<float> cs(static_cast<size_t>(T) * hd);
        rope_table(cs.data(), T, hd, theta);
        Vec x = trt::to_double(trt::randf(static_cast<size_t>(rows) * nh * hd, 7));
        const std::vector<float> cw = trt::randf(x.size(), 8);
        std::vector<float> xf = to_float(x);
        rope_forward(xf.data(), nh * hd, rows, T, nh, hd, cs.data());
        Vec xd = x;
        trt::rope(xd, rows, T, nh, hd, theta);
        for (size_t i = 0; i < xf.size(); i++) CHECK(xf[i] == Approx(xd[i]).margin(1e-5));
        std::vector<float> d = cw;
        rope_backward(d.data(), nh * hd, rows, T, nh, hd, cs.data());
        check_grad("dx", x, d, [&] {
            Vec y = x;
            trt::rope(y, rows, T, nh, hd, theta);
            return dot(y, cw);
        });
    }
}

TEST_CASE("train ops: grouped-query causal attention backward against finite differences", "[train][ops]") {
    for (int T : {1, 17}) {
        INFO("T = " << T);
        const int B = 2, nh = 4, nkv = 2, hd = 6, rows = B * T;
        Vec q = trt::to_double(trt::randf(static_cast<size_t>(rows) * nh * hd, 9));
        Vec k = trt::to_double(trt::randf(static_cast<size_t>(rows) * nkv * hd, 10));
        Vec v = trt::to_double(trt::randf(static_cast<size_t>(rows) * nkv * hd, 11));
        const std::vector<float> cw = trt::randf(q.size(), 12);
        std::vector<float> qf = to_float(q), kf = to_float(k), vf = to_float(v);
        std::vector<float> out(q.size()), att(static_cast<size_t>(B) * nh * T * T);
        const AttnShape s{B, T, nh, nkv, hd, nh * hd, nkv * hd, nh * hd};
        for (const sm::kern::Kernels *kt : tables()) {
            INFO(kt->name);
            Compute c{kt, nullptr, sm::kern::train_kernels_for(kt->isa)};
            attention_forward(c, out.data(), att.data(), qf.data(), kf.data(), vf.data(), s);
            const Vec od = trt::attention(q, k, v, B, T, nh, nkv, hd);
            for (size_t i = 0; i < out.size(); i++) CHECK(out[i] == Approx(od[i]).margin(1e-5));
            std::vector<float> dq(q.size()), dk(k.size(), 7.0f), dv(v.size(), 7.0f);
            std::vector<float> scratch(attention_scratch_floats(s));
            attention_backward(c, dq.data(), dk.data(), dv.data(), cw.data(), att.data(), qf.data(), kf.data(), vf.data(), s,
                               scratch.data());
            auto f = [&] { return dot(trt::attention(q, k, v, B, T, nh, nkv, hd), cw); };
            check_grad("dq", q, dq, f);
            check_grad("dk", k, dk, f);
            check_grad("dv", v, dv, f);
        }
    }
}

TEST_CASE("train ops: swiglu backward against finite differences, every train table", "[train][ops]") {
    for (const sm::kern::TrainKernels *t : trt::runnable_train_tables())
        for (int rows : {1, 17}) {
            INFO(t->name << ", rows = " << rows);
            Compute c;
            c.tk = t;
            const int H = 23;
            Vec h = trt::to_double(trt::randf(static_cast<size_t>(rows) * 2 * H, 13, 2.0f));
            const std::vector<float> cw = trt::randf(static_cast<size_t>(rows) * H, 14);
            std::vector<float> hf = to_float(h), out(cw.size()), dh(h.size());
            swiglu_forward(c, out.data(), hf.data(), rows, H);
            const Vec od = trt::swiglu(h, rows, H);
            for (size_t i = 0; i < out.size(); i++) CHECK(out[i] == Approx(od[i]).margin(1e-5));
            swiglu_backward(c, dh.data(), cw.data(), hf.data(), rows, H);
            check_grad("dh", h, dh, [&] { return dot(trt::swiglu(h, rows, H), cw); });
        }
}

TEST_CASE("train ops: cross-entropy backward against finite differences", "[train][ops]") {
    for (int rows : {1, 17}) {
        const int V = 23;
        const float scale = 0.37f;
        Vec logits = trt::to_double(trt::randf(static_cast<size_t>(rows) * V, 15, 3.0f));
        std::vector<int32_t> targets(rows);
        for (int r = 0; r < rows; r++) targets[r] = (r * 7 + 3) % V;
        if (rows > 1) targets[5] = -1; // no target: no loss, no gradient
        std::vector<float> lf = to_float(logits), losses(rows);
        const double sum = crossentropy_forward(lf.data(), losses.data(), targets.data(), rows, V);
        CHECK(sum == Approx(trt::crossentropy(logits, targets, rows, V)).epsilon(1e-5));
        crossentropy_backward(lf.data(), targets.data(), rows, V, scale);
        check_grad("dlogits", logits, lf, [&] { return scale * trt::crossentropy(logits, targets, rows, V); });
    }
}

TEST_CASE("train ops: embedding backward sums the rows of repeated tokens", "[train][ops]") {
    const int V = 11, D = 7, rows = 17;
    std::vector<int32_t> tokens(rows);
    for (int r = 0; r < rows; r++) tokens[r] = (r * 5) % V;
    Vec E = trt::to_double(trt::randf(static_cast<size_t>(V) * D, 16));
    const std::vector<float> cw = trt::randf(static_cast<size_t>(rows) * D, 17);
    std::vector<float> Ef = to_float(E), out(cw.size()), dE(E.size(), 0.0f);
    embedding_forward(out.data(), tokens.data(), Ef.data(), rows, D);
    embedding_backward(dE.data(), tokens.data(), cw.data(), rows, D);
    auto f = [&] {
        double s = 0;
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < D; i++) s += E[tokens[r] * D + i] * cw[r * D + i];
        return s;
    };
    check_grad("dE", E, dE, f);
    for (int i = 0; i < D; i++) CHECK(out[3 * D + i] == Ef[tokens[3] * D + i]);
}
