// `smallmind bench-gemm-train`: the three products of a training step (forward y = x W^T,
// dx = dy W, dW = dy^T x) at the linear layers' shapes of a model, on the trainer's own
// code path (train/matmul.h), against the FMA peak and OpenBLAS side by side.
#include "perf/perf_commands.h"

#include "huge_buffer.h"
#include "machine_limits.h"

#include "core/clock.h"
#include "core/cpu.h"
#include "core/parallel.h"
#include "kernels/tables.h"
#include "train/matmul.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <random>
#include <thread>
#include <vector>

namespace {

using SgemmFn = void (*)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
using SetThreadsFn = void (*)(int);
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

double median_of(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

template <class Fn> double time_median(int reps, Fn fn) {
    fn();
    std::vector<double> t;
    for (int r = 0; r < reps; r++) {
        const uint64_t t0 = sm::now_ns();
        fn();
        t.push_back(static_cast<double>(sm::now_ns() - t0) * 1e-9);
    }
    return median_of(t);
}

float *floats(sm::perf::HugeBuffer &b) { return reinterpret_cast<float *>(b.data()); }

} // namespace

int cmd_bench_gemm_train(int argc, char **argv) {
    int threads = 1, reps = 21, dim = 288, hidden = 768, vocab = 512, kv_dim = -1, rows = 256;
    bool use_blas = true, json = false;
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (!strcmp(s, "--threads") && v) threads = std::max(1, atoi(v)), i++;
        else if (!strcmp(s, "--reps") && v) reps = std::max(1, atoi(v)), i++;
        else if (!strcmp(s, "--dim") && v) dim = atoi(v), i++;
        else if (!strcmp(s, "--hidden") && v) hidden = atoi(v), i++;
        else if (!strcmp(s, "--vocab-size") && v) vocab = atoi(v), i++;
        else if (!strcmp(s, "--kv-dim") && v) kv_dim = atoi(v), i++;
        else if (!strcmp(s, "--rows") && v) rows = atoi(v), i++;
        else if (!strcmp(s, "--no-blas")) use_blas = false;
        else if (!strcmp(s, "--json")) json = true;
        else {
            fprintf(stderr, "usage: bench-gemm-train [--dim 288] [--hidden 768] [--vocab-size 512] [--kv-dim D] [--rows 256]\n"
                            "                        [--threads N] [--reps R] [--no-blas] [--json]\n");
            return 2;
        }
    }
    if (kv_dim < 0) kv_dim = dim;
    if (dim < 1 || hidden < 1 || vocab < 1 || rows < 1 || kv_dim < 1) {
        fprintf(stderr, "bench-gemm-train: sizes must be positive\n");
        return 2;
    }
    const sm::CpuFeatures f = sm::detect_cpu();
    const sm_isa isa = sm::best_isa(f);
    sm::train::Compute c;
    c.k = sm::kern::kernels_for(isa, f);
    c.tk = sm::kern::train_kernels_for(isa);
    sm::ThreadPool pool;
    pool.start(threads - 1);
    sm::Parallel par;
    par.use_pool(&pool);
    c.par = &par;
    const bool wide = isa == SM_ISA_AVX512;
    const double peak = sm::perf::fma_peak_gflops(wide ? sm::perf::FmaWidth::Avx512 : sm::perf::FmaWidth::Avx2, threads, 3);

    void *blas_handle = use_blas ? dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL) : nullptr;
    SgemmFn sgemm = blas_handle ? reinterpret_cast<SgemmFn>(dlsym(blas_handle, "cblas_sgemm")) : nullptr;
    if (blas_handle) {
        if (auto set = reinterpret_cast<SetThreadsFn>(dlsym(blas_handle, "openblas_set_num_threads"))) set(threads);
    }

    // The trainer's linear layers (train/model.cpp): fused q|k|v, o, fused gate|up, down, head.
    struct Shape {
        const char *what;
        int N, K;
    } shapes[] = {
        {"qkv", dim + 2 * kv_dim, dim}, {"o", dim, dim}, {"w13", 2 * hidden, dim}, {"w2", dim, hidden}, {"head", vocab, dim}};
    if (!json)
        printf("bench-gemm-train: train table %s, %d thread(s), M = %d rows, FMA peak %.1f GFLOP/s, OpenBLAS %s\n", c.tk->name,
               threads, rows, peak, sgemm ? "loaded" : "not found");
    else
        printf("{\"table\": \"%s\", \"threads\": %d, \"rows\": %d, \"fma_peak_gflops\": %.1f, \"results\": [", c.tk->name,
               threads, rows, peak);
    if (!json)
        printf("%-5s %5s %5s | %-3s | %8s %6s | %9s %7s | %9s\n", "what", "N", "K", "op", "SM GF/s", "%peak", "BLAS GF/s",
               "SM/BLAS", "max|diff|");
    std::mt19937 g(1);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    double sm_total_s = 0, blas_total_s = 0;
    bool first = true;
    for (const Shape &s : shapes) {
        const int M = rows, N = s.N, K = s.K;
        sm::perf::HugeBuffer wb(sizeof(float) * N * K), xb(sizeof(float) * M * K), yb(sizeof(float) * M * N),
            dyb(sizeof(float) * M * N), dxb(sizeof(float) * M * K), dwb(sizeof(float) * N * K),
            rb(sizeof(float) * M * N + sizeof(float) * N * K);
        float *W = floats(wb), *x = floats(xb), *y = floats(yb), *dy = floats(dyb), *dx = floats(dxb), *dW = floats(dwb),
              *ref = floats(rb);
        for (int64_t i = 0; i < int64_t(N) * K; i++) W[i] = nd(g);
        for (int64_t i = 0; i < int64_t(M) * K; i++) x[i] = nd(g);
        for (int64_t i = 0; i < int64_t(M) * N; i++) dy[i] = nd(g);
        sm::train::MatmulScratch ms;
        for (int op = 0; op < 3; op++) {
            const char *opn = op == 0 ? "y" : op == 1 ? "dx" : "dW";
            double secs = 0;
            float *out = op == 0 ? y : op == 1 ? dx : dW;
            if (op == 0) secs = time_median(reps, [&] { sm::train::matmul_forward(c, y, N, x, K, W, M, N, K); });
            // dW alone: dx = null; dx alone: the difference would be noisy, so it is timed
            // as dx + dW minus dW's median.
            else if (op == 2)
                secs = time_median(reps,
                                   [&] { sm::train::matmul_backward(c, nullptr, K, dW, false, dy, N, x, K, W, M, N, K, ms); });
            else {
                const double both = time_median(
                    reps, [&] { sm::train::matmul_backward(c, dx, K, dW, false, dy, N, x, K, W, M, N, K, ms); });
                const double dw_only = time_median(
                    reps, [&] { sm::train::matmul_backward(c, nullptr, K, dW, false, dy, N, x, K, W, M, N, K, ms); });
                secs = std::max(1e-9, both - dw_only);
            }
            const double flops = 2.0 * M * N * K, gf = flops / secs * 1e-9;
            // Check a few outputs against double sums.
            double maxdiff = 0;
            for (int t = 0; t < 16; t++) {
                const int a = (t * 7919) % (op == 2 ? N : M), b = (t * 104729) % (op == 0 ? N : K);
                double acc = 0;
                if (op == 0)
                    for (int k = 0; k < K; k++) acc += double(x[int64_t(a) * K + k]) * W[int64_t(b) * K + k];
                else if (op == 1)
                    for (int n = 0; n < N; n++) acc += double(dy[int64_t(a) * N + n]) * W[int64_t(n) * K + b];
                else
                    for (int m = 0; m < M; m++) acc += double(dy[int64_t(m) * N + a]) * x[int64_t(m) * K + b];
                const int64_t ld = op == 0 ? N : K;
                maxdiff = std::max(maxdiff, std::fabs(acc - out[int64_t(a) * ld + b]));
            }
            double bgf = 0;
            if (sgemm) {
                std::this_thread::sleep_for(std::chrono::milliseconds(threads > 1 ? 300 : 0));
                const double bs = time_median(reps, [&] {
                    if (op == 0) sgemm(kRowMajor, kNoTrans, kTrans, M, N, K, 1.0f, x, K, W, K, 0.0f, ref, N);
                    else if (op == 1) sgemm(kRowMajor, kNoTrans, kNoTrans, M, K, N, 1.0f, dy, N, W, K, 0.0f, ref, K);
                    else sgemm(kRowMajor, kTrans, kNoTrans, N, K, M, 1.0f, dy, N, x, K, 0.0f, ref, K);
                });
                bgf = flops / bs * 1e-9;
                blas_total_s += bs;
                if (threads > 1) std::this_thread::sleep_for(std::chrono::milliseconds(300));
            }
            sm_total_s += secs;
            if (json) {
                printf("%s{\"what\": \"%s\", \"N\": %d, \"K\": %d, \"op\": \"%s\", \"gflops\": %.2f, \"peak_frac\": %.3f, "
                       "\"blas_gflops\": %.2f, \"max_abs_diff\": %.3g}",
                       first ? "" : ", ", s.what, N, K, opn, gf, gf / peak, bgf, maxdiff);
                first = false;
            } else {
                char bbuf[32] = "-", rbuf[32] = "-";
                if (bgf > 0) snprintf(bbuf, sizeof bbuf, "%.1f", bgf), snprintf(rbuf, sizeof rbuf, "%.2f", gf / bgf);
                printf("%-5s %5d %5d | %-3s | %8.1f %5.1f%% | %9s %7s | %9.2g\n", s.what, N, K, opn, gf, 100.0 * gf / peak, bbuf,
                       rbuf, maxdiff);
                fflush(stdout);
            }
        }
    }
    if (json) printf("], \"sm_ms\": %.3f, \"blas_ms\": %.3f}\n", sm_total_s * 1e3, blas_total_s * 1e3);
    else
        printf("all 15 products, one layer of each: SmallMind %.3f ms, OpenBLAS %.3f ms\n", sm_total_s * 1e3, blas_total_s * 1e3);
    pool.stop();
    return 0;
}
