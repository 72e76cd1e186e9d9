// The LoRA linear layer over a frozen base of every weight type and layout: gradients of
// A and B against finite differences of a double-precision loss, dx against a double
// reference through the dequantized weights, the forward against the inference pass's
// kernel calls (bitwise), bit-identical results for 1, 2 and 3 threads, gradients that
// accumulate, no heap allocation, and refusals of bad input.
#include "../kernels/kernel_test_util.h"
#include "../test_support.h"

#include "core/parallel.h"
#include "lora/lora_linear.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace {

using kt::Kernels;
using sm::TensorType;
using sm::kern::Layout;

const TensorType kTypes[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q8_0,
                             TensorType::Q4_0, TensorType::Q4_K, TensorType::Q6_K};

bool k_quant(TensorType t) { return t == TensorType::Q4_K || t == TensorType::Q6_K; }
const char *tname(TensorType t) { return sm::type_name(static_cast<uint32_t>(t)); }

std::vector<const Kernels *> tables() {
    std::vector<const Kernels *> t = kt::simd_tables();
    t.push_back(&sm::kern::kRefKernels);
    return t;
}

// A base matrix in the layout asked for (Rows8 interleaved from the plain rows), with the
// dequantized values the kernels multiply.
struct Base {
    kt::Weights w;
    std::vector<uint8_t> il;
    Layout layout;
    Base(TensorType t, int N, int K, Layout l, uint32_t seed) : w(t, N, K, seed), layout(l) {
        if (l == Layout::Rows8) {
            il.assign(w.rb * N + 8, 0);
            REQUIRE(sm::quant::interleave_rows8(t, w.buf.data() + w.off, il.data() + 2, N, K));
        }
    }
    sm::kern::Matrix matrix() const {
        sm::kern::Matrix m = w.matrix();
        if (layout == Layout::Rows8) {
            m.layout = Layout::Rows8;
            m.data = il.data() + 2;
        }
        return m;
    }
};

// Everything one forward + backward reads and writes.
struct Case {
    int M, N, K, R;
    float s = 0.75f;
    std::vector<float> x, a, b, g; // g: dy, the loss L = sum(y * g)
    Case(int M_, int N_, int K_, int R_, uint32_t seed) : M(M_), N(N_), K(K_), R(R_) {
        x = kt::randn(static_cast<size_t>(M) * K, seed);
        a = kt::randn(static_cast<size_t>(R) * K, seed + 1, 1.0f / std::sqrt(static_cast<float>(K)));
        b = kt::randn(static_cast<size_t>(N) * R, seed + 2, 0.5f);
        g = kt::randn(static_cast<size_t>(M) * N, seed + 3);
    }
    sm::lora::Linear linear(const sm::kern::Matrix &w) const {
        sm::lora::Linear l;
        l.w = w;
        l.a = a.data();
        l.b = b.data();
        l.rank = R;
        l.scale = s;
        return l;
    }
};

struct Out {
    std::vector<float> y, t, da, db, dx;
};

struct Runner {
    std::vector<uint8_t> ws_buf;
    sm::lora::Workspace ws;
    Runner(const Kernels &k, TensorType t, const Case &c, int max_tasks) {
        ws_buf.assign(sm::lora::workspace_bytes(k, t, c.M, c.N, c.K, c.R, max_tasks) + 1, 0);
        ws.data = ws_buf.data() + 1; // the layer aligns it itself
        ws.bytes = ws_buf.size() - 1;
        ws.max_tasks = max_tasks;
    }
    // Forward, then backward with dy = g; the gradients start from zero.
    void run(const Kernels &k, const sm::Parallel *par, const Case &c, const sm::kern::Matrix &w, Out &o) {
        o.y.assign(static_cast<size_t>(c.M) * c.N, NAN);
        o.t.assign(static_cast<size_t>(c.M) * c.R, NAN);
        o.da.assign(static_cast<size_t>(c.R) * c.K, 0.0f);
        o.db.assign(static_cast<size_t>(c.N) * c.R, 0.0f);
        o.dx.assign(static_cast<size_t>(c.M) * c.K, NAN);
        run_into(k, par, c, w, o);
    }
    void run_into(const Kernels &k, const sm::Parallel *par, const Case &c, const sm::kern::Matrix &w, Out &o,
                  bool dx_acc = false) {
        sm_status fwd, bwd;
        passes(k, par, c, w, o, dx_acc, &fwd, &bwd);
        REQUIRE(fwd == SM_OK);
        REQUIRE(bwd == SM_OK);
    }
    // The two passes and nothing else (Catch's assertions may allocate).
    void passes(const Kernels &k, const sm::Parallel *par, const Case &c, const sm::kern::Matrix &w, Out &o, bool dx_acc,
                sm_status *fwd, sm_status *bwd) {
        const sm::lora::Linear l = c.linear(w);
        sm::Error err;
        *fwd = sm::lora::linear_forward(k, par, l, c.x.data(), c.K, c.M, o.y.data(), c.N, o.t.data(), ws, err);
        sm::lora::LinearGrads gr;
        gr.da = o.da.data(), gr.db = o.db.data(), gr.dx = o.dx.data(), gr.lddx = c.K, gr.dx_accumulate = dx_acc;
        *bwd = sm::lora::linear_backward(k, par, l, c.x.data(), c.K, o.t.data(), c.g.data(), c.N, c.M, gr, ws, err);
    }
};

// The loss's LoRA part in double: sum_mn g[m][n] * s * sum_j B[n][j] sum_k A[j][k] x[m][k].
double lora_loss(const Case &c, const std::vector<double> &A, const std::vector<double> &B) {
    double L = 0;
    std::vector<double> t(c.R);
    for (int m = 0; m < c.M; m++) {
        for (int j = 0; j < c.R; j++) {
            double acc = 0;
            for (int k = 0; k < c.K; k++) acc += A[j * c.K + k] * c.x[m * c.K + k];
            t[j] = c.s * acc;
        }
        for (int n = 0; n < c.N; n++) {
            double acc = 0;
            for (int j = 0; j < c.R; j++) acc += B[n * c.R + j] * t[j];
            L += c.g[m * c.N + n] * acc;
        }
    }
    return L;
}

// Checks one shape on one table and layout against the double references.
void check_gradients(const Kernels &k, TensorType type, Layout layout, int M, int N, int K, int R) {
    INFO(k.name << " " << tname(type) << (layout == Layout::Rows8 ? " rows8" : " rows") << " M=" << M << " N=" << N << " K=" << K
                << " rank=" << R);
    const Base base(type, N, K, layout, 1000 + N * 7 + K + R);
    const Case c(M, N, K, R, 17 * M + N + R);
    const sm::kern::Matrix w = base.matrix();
    Runner run(k, type, c, 1);
    Out o;
    run.run(k, nullptr, c, w, o);

    // Double references: t = s A x, u = s g B, y = W_deq x + B t, dA = u^T x, dB = g^T t,
    // dx = g W_deq + u A, each with the sum of the terms' magnitudes for its bound.
    const std::vector<float> &Wd = base.w.deq;
    std::vector<double> td(static_cast<size_t>(M) * R), tabs(td.size()), ud(td.size()), uabs(td.size());
    for (int m = 0; m < M; m++)
        for (int j = 0; j < R; j++) {
            double acc = 0, ab = 0, au = 0, aab = 0;
            for (int kk = 0; kk < K; kk++) {
                acc += static_cast<double>(c.a[j * K + kk]) * c.x[m * K + kk];
                ab += std::fabs(static_cast<double>(c.a[j * K + kk]) * c.x[m * K + kk]);
            }
            for (int n = 0; n < N; n++) {
                au += static_cast<double>(c.g[m * N + n]) * c.b[n * R + j];
                aab += std::fabs(static_cast<double>(c.g[m * N + n]) * c.b[n * R + j]);
            }
            td[m * R + j] = c.s * acc, tabs[m * R + j] = std::fabs(c.s) * ab;
            ud[m * R + j] = c.s * au, uabs[m * R + j] = std::fabs(c.s) * aab;
        }
    // The saved t is s A x.
    for (size_t i = 0; i < td.size(); i++) REQUIRE(std::fabs(o.t[i] - td[i]) <= 1e-4 * tabs[i] + 1e-7);

    // y: the base through the dequantized weights; quantized types also quantize the
    // activations to 8 bits (about 1/254 of a block's largest value per element).
    const double ytol = sm::kern::act_is_q8(type) ? 1.5e-2 : 1e-4;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double acc = 0, ab = 0;
            for (int kk = 0; kk < K; kk++) {
                acc += static_cast<double>(Wd[static_cast<size_t>(n) * K + kk]) * c.x[m * K + kk];
                ab += std::fabs(static_cast<double>(Wd[static_cast<size_t>(n) * K + kk]) * c.x[m * K + kk]);
            }
            double lo = 0, lab = 0;
            for (int j = 0; j < R; j++) {
                lo += c.b[n * R + j] * td[m * R + j];
                lab += std::fabs(c.b[n * R + j]) * tabs[m * R + j];
            }
            REQUIRE(std::fabs(o.y[m * N + n] - (acc + lo)) <= ytol * ab + 1e-4 * lab + 1e-6);
        }

    // dA, dB against the analytic double gradients, every element.
    for (int j = 0; j < R; j++)
        for (int kk = 0; kk < K; kk++) {
            double acc = 0, ab = 0;
            for (int m = 0; m < M; m++) {
                acc += ud[m * R + j] * c.x[m * K + kk];
                ab += uabs[m * R + j] * std::fabs(c.x[m * K + kk]);
            }
            REQUIRE(std::fabs(o.da[j * K + kk] - acc) <= 1e-4 * ab + 1e-7);
        }
    for (int n = 0; n < N; n++)
        for (int j = 0; j < R; j++) {
            double acc = 0, ab = 0;
            for (int m = 0; m < M; m++) {
                acc += static_cast<double>(c.g[m * N + n]) * td[m * R + j];
                ab += std::fabs(static_cast<double>(c.g[m * N + n])) * tabs[m * R + j];
            }
            REQUIRE(std::fabs(o.db[n * R + j] - acc) <= 1e-4 * ab + 1e-7);
        }

    // Central finite differences of the double loss (its LoRA part: the base term does
    // not depend on A or B), at up to 24 entries of each of A and B.
    std::vector<double> A(c.a.begin(), c.a.end()), B(c.b.begin(), c.b.end());
    const double h = 1e-3;
    auto fd_check = [&](std::vector<double> &P, const std::vector<float> &grad, const char *what) {
        const int n = static_cast<int>(P.size());
        const int step = n > 24 ? n / 24 : 1;
        for (int i = (n > 24 ? 5 % step : 0); i < n; i += step) {
            const double keep = P[i];
            P[i] = keep + h;
            const double lp = lora_loss(c, A, B);
            P[i] = keep - h;
            const double lm = lora_loss(c, A, B);
            P[i] = keep;
            const double fd = (lp - lm) / (2 * h);
            INFO(what << "[" << i << "] fd " << fd << " got " << grad[i]);
            REQUIRE(std::fabs(grad[i] - fd) <= 1e-3 * std::fabs(fd) + 2e-4);
        }
    };
    fd_check(A, o.da, "dA");
    fd_check(B, o.db, "dB");

    // dx = g W_deq + u A through the frozen base.
    for (int m = 0; m < M; m++)
        for (int kk = 0; kk < K; kk++) {
            double acc = 0, ab = 0;
            for (int n = 0; n < N; n++) {
                acc += static_cast<double>(c.g[m * N + n]) * Wd[static_cast<size_t>(n) * K + kk];
                ab += std::fabs(static_cast<double>(c.g[m * N + n]) * Wd[static_cast<size_t>(n) * K + kk]);
            }
            for (int j = 0; j < R; j++) {
                acc += ud[m * R + j] * c.a[j * K + kk];
                ab += uabs[m * R + j] * std::fabs(c.a[j * K + kk]);
            }
            REQUIRE(std::fabs(o.dx[m * K + kk] - acc) <= 1e-4 * ab + 1e-7);
        }

    // The forward is the inference pass's kernel calls (infer/forward.cpp): converted
    // activations, the base matmul, then t = A x, t *= s, B t added: the same bits.
    {
        std::vector<float> y(static_cast<size_t>(M) * N), t(static_cast<size_t>(M) * R), ob(y.size());
        const void *act = c.x.data();
        size_t arb = sizeof(float) * K;
        std::unique_ptr<kt::Acts> acts;
        if (k.act_format(type) != sm::kern::ActFormat::Floats) {
            acts.reset(new kt::Acts(k, type, c.x.data(), K, M, K));
            act = acts->p();
            arb = acts->rb;
        }
        k.matmul(w, act, arb, M, y.data(), N, 0, N);
        sm::kern::Matrix Am = base.w.matrix(), Bm = Am;
        Am.type = Bm.type = TensorType::F32;
        Am.layout = Bm.layout = Layout::Rows;
        Am.rows = R, Am.cols = K, Am.row_bytes = sizeof(float) * K, Am.data = c.a.data();
        Bm.rows = N, Bm.cols = R, Bm.row_bytes = sizeof(float) * R, Bm.data = c.b.data();
        k.matmul(Am, c.x.data(), sizeof(float) * K, M, t.data(), R, 0, R);
        for (float &v : t) v *= c.s;
        k.matmul(Bm, t.data(), sizeof(float) * R, M, ob.data(), N, 0, N);
        for (int m = 0; m < M; m++) k.add(y.data() + m * N, ob.data() + m * N, N);
        CHECK(kt::bits_equal(y.data(), o.y.data(), y.size()));
        CHECK(kt::bits_equal(t.data(), o.t.data(), t.size()));
    }
}

struct Pool {
    sm::ThreadPool pool;
    sm::Parallel par;
    explicit Pool(int threads) {
        pool.start(threads - 1);
        par.use_pool(&pool);
    }
    ~Pool() { pool.stop(); }
};

} // namespace

TEST_CASE("lora linear: gradients against finite differences, dx and y against double references, every base type and layout",
          "[lora][train]") {
    int rows8_cases = 0;
    for (const Kernels *k : tables())
        for (TensorType t : kTypes) {
            // Float bases also at an odd K (no whole SIMD vectors or 8-column groups).
            std::vector<int> Ks = {k_quant(t) ? 256 : 64};
            if (t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16) Ks.push_back(37);
            for (int K : Ks)
                for (Layout layout : {Layout::Rows, Layout::Rows8})
                    // 160: W^T tiles of 128 and 32 rows, which AVX2 multiplies as F32 Rows8 panels
                    for (int N : {19, 33, 40, 160}) {
                        if (layout == Layout::Rows8 && !sm::kern::wants_rows8(*k, t, N, K)) continue;
                        if (layout == Layout::Rows8) rows8_cases++;
                        for (int M : {1, 3, 17})
                            for (int R : {1, 4, 8}) check_gradients(*k, t, layout, M, N, K, R);
                    }
        }
    // Rows8 bases exist only on tables that ask for them (AVX2); say so when none ran.
    if (!rows8_cases) WARN("no kernel table here takes Rows8 weights: that layout was not covered");
}

TEST_CASE("lora linear: bit-identical for 1, 2 and 3 threads, any task count and order", "[lora][train]") {
    for (const Kernels *k : tables())
        for (TensorType t : kTypes)
            for (Layout layout : {Layout::Rows, Layout::Rows8}) {
                // Several row chunks, W tiles and A columns tiles, so tasks really split.
                const int M = 150, N = 200, K = k_quant(t) ? 512 : 160, R = 8;
                if (layout == Layout::Rows8 && !sm::kern::wants_rows8(*k, t, N, K)) continue;
                INFO(k->name << " " << tname(t) << (layout == Layout::Rows8 ? " rows8" : " rows"));
                const Base base(t, N, K, layout, 99);
                const Case c(M, N, K, R, 5);
                Out ref;
                {
                    Runner r(*k, t, c, 1);
                    r.run(*k, nullptr, c, base.matrix(), ref);
                }
                auto same = [&](const Out &o) {
                    CHECK(kt::bits_equal(ref.y.data(), o.y.data(), o.y.size()));
                    CHECK(kt::bits_equal(ref.t.data(), o.t.data(), o.t.size()));
                    CHECK(kt::bits_equal(ref.da.data(), o.da.data(), o.da.size()));
                    CHECK(kt::bits_equal(ref.db.data(), o.db.data(), o.db.size()));
                    CHECK(kt::bits_equal(ref.dx.data(), o.dx.data(), o.dx.size()));
                };
                for (int threads : {1, 2, 3})
                    for (int max_tasks : {1, 3, 8}) {
                        INFO(threads << " threads, max_tasks " << max_tasks);
                        Pool p(threads);
                        Runner r(*k, t, c, max_tasks);
                        Out o;
                        r.run(*k, &p.par, c, base.matrix(), o);
                        same(o);
                    }
                { // a host job system that runs 7 tasks per call, last first
                    INFO("host jobs, reversed");
                    sm_job_system js;
                    js.parallel_for = [](void *, void (*fn)(void *, int), void *ctx, int n) {
                        for (int i = n - 1; i >= 0; i--) fn(ctx, i);
                    };
                    js.max_parallelism = 7;
                    js.user = nullptr;
                    sm::Parallel par;
                    par.use_jobs(&js);
                    Runner r(*k, t, c, 7);
                    Out o;
                    r.run(*k, &par, c, base.matrix(), o);
                    same(o);
                }
            }
}

TEST_CASE("lora linear: gradients accumulate, dx optionally too; no heap allocation", "[lora][train]") {
    const Kernels &k = *tables().front();
    for (TensorType t : {TensorType::F32, TensorType::Q8_0, TensorType::Q4_K}) {
        INFO(k.name << " " << tname(t));
        const int M = 70, N = 48, K = 256, R = 4;
        const Base base(t, N, K, Layout::Rows, 7);
        const Case c(M, N, K, R, 11);
        Pool p(3);
        Runner r(k, t, c, 3);
        Out o;
        r.run(k, &p.par, c, base.matrix(), o);
        // A second pass adds the same gradients again: exactly twice the first.
        Out o2 = o;
        std::fill(o2.dx.begin(), o2.dx.end(), 0.0f);
        const sm::kern::Matrix w = base.matrix();
        sm_status fwd = SM_ERR_INTERNAL, bwd = SM_ERR_INTERNAL;
        const uint64_t before = smtest::heap_allocations();
        r.passes(k, &p.par, c, w, o2, true, &fwd, &bwd);
        const uint64_t after = smtest::heap_allocations();
        REQUIRE(fwd == SM_OK);
        REQUIRE(bwd == SM_OK);
        CHECK(after - before == 0);
        for (size_t i = 0; i < o.da.size(); i++) REQUIRE(o2.da[i] == 2 * o.da[i]);
        for (size_t i = 0; i < o.db.size(); i++) REQUIRE(o2.db[i] == 2 * o.db[i]);
        // dx added to zeros gives dx's values.
        for (size_t i = 0; i < o.dx.size(); i++) REQUIRE(o2.dx[i] == o.dx[i]);
    }
}

TEST_CASE("lora linear: any subset of the gradients gives the same values", "[lora][train]") {
    const Kernels &k = *tables().front();
    const int M = 20, N = 40, K = 64, R = 4;
    const Base base(TensorType::Q4_0, N, K, Layout::Rows, 21);
    const Case c(M, N, K, R, 23);
    Runner r(k, TensorType::Q4_0, c, 2);
    Out all;
    r.run(k, nullptr, c, base.matrix(), all);
    const sm::lora::Linear l = c.linear(base.matrix());
    for (int mask = 1; mask < 8; mask++) {
        INFO("gradients " << mask);
        std::vector<float> da(all.da.size(), 0.0f), db(all.db.size(), 0.0f), dx(all.dx.size(), NAN);
        sm::lora::LinearGrads g;
        g.da = mask & 1 ? da.data() : nullptr;
        g.db = mask & 2 ? db.data() : nullptr;
        g.dx = mask & 4 ? dx.data() : nullptr;
        g.lddx = K;
        sm::Error err;
        REQUIRE(sm::lora::linear_backward(k, nullptr, l, c.x.data(), K, all.t.data(), c.g.data(), N, M, g, r.ws, err) == SM_OK);
        if (g.da) CHECK(kt::bits_equal(da.data(), all.da.data(), da.size()));
        if (g.db) CHECK(kt::bits_equal(db.data(), all.db.data(), db.size()));
        if (g.dx) CHECK(kt::bits_equal(dx.data(), all.dx.data(), dx.size()));
    }
}

TEST_CASE("lora linear: bad input is refused with a message", "[lora][train]") {
    const Kernels &k = sm::kern::kRefKernels;
    const Base base(TensorType::Q8_0, 16, 64, Layout::Rows, 3);
    const Case c(4, 16, 64, 2, 3);
    Runner r(k, TensorType::Q8_0, c, 1);
    std::vector<float> y(64 * 4), t(8);
    sm::Error err;
    sm::lora::Linear l = c.linear(base.matrix());

    sm::lora::Workspace small = r.ws;
    small.bytes -= 65;
    CHECK(sm::lora::linear_forward(k, nullptr, l, c.x.data(), 64, 4, y.data(), 16, t.data(), small, err) == SM_ERR_BUDGET);
    CHECK(std::string(err.message).find("workspace") != std::string::npos);

    err.clear();
    sm::lora::Linear bad = l;
    bad.rank = -1;
    CHECK(sm::lora::linear_forward(k, nullptr, bad, c.x.data(), 64, 4, y.data(), 16, t.data(), r.ws, err) ==
          SM_ERR_INVALID_ARGUMENT);
    err.clear();
    bad = l;
    bad.rank = 3;
    bad.b = nullptr;
    CHECK(sm::lora::linear_forward(k, nullptr, bad, c.x.data(), 64, 4, y.data(), 16, t.data(), r.ws, err) ==
          SM_ERR_INVALID_ARGUMENT);

    err.clear();
    bad = l;
    bad.w.type = TensorType::Q5_0;
    bad.w.row_bytes = sm::row_bytes(TensorType::Q5_0, 64);
    CHECK(sm::lora::linear_forward(k, nullptr, bad, c.x.data(), 64, 4, y.data(), 16, t.data(), r.ws, err) == SM_ERR_UNSUPPORTED);
    CHECK(err.message[0] != 0);

    err.clear();
    sm::lora::LinearGrads g;
    g.dx = y.data();
    g.lddx = 10; // < K
    CHECK(sm::lora::linear_backward(k, nullptr, l, c.x.data(), 64, t.data(), c.g.data(), 16, 4, g, r.ws, err) ==
          SM_ERR_INVALID_ARGUMENT);
}
