#include "perf/perf_commands.h"

#include "huge_buffer.h"
#include "machine_limits.h"

#include "core/clock.h"
#include "core/cpu.h"
#include "core/parallel.h"
#include "kernels/tables.h"
#include "quant/quant.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using sm::TensorType;
using sm::kern::Kernels;

// cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
using SgemmFn = void (*)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
using SetThreadsFn = void (*)(int);
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

struct OpenBlas {
    SgemmFn sgemm = nullptr;
    SetThreadsFn set_threads = nullptr;
    void load() {
        void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!h) h = dlopen("libopenblas.so", RTLD_NOW | RTLD_LOCAL);
        if (!h) return;
        sgemm = reinterpret_cast<SgemmFn>(dlsym(h, "cblas_sgemm"));
        set_threads = reinterpret_cast<SetThreadsFn>(dlsym(h, "openblas_set_num_threads"));
    }
};

struct Args {
    const Kernels *k = nullptr;
    int threads = 1, reps = 5;
    std::vector<int> ms = {1, 64, 128, 512};
    std::vector<TensorType> types = {TensorType::F32, TensorType::F16, TensorType::Q8_0, TensorType::Q4_0};
    bool vocab = true, json = false, blas = true;
};

std::vector<std::string> split(const char *s) {
    std::vector<std::string> out;
    std::string cur;
    for (; *s; s++) {
        if (*s == ',') out.push_back(cur), cur.clear();
        else cur += *s;
    }
    out.push_back(cur);
    return out;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Median seconds of fn() over at least 3 and at most `reps` runs, stopping after ~1 s.
template <class Fn> double time_it(int reps, Fn fn) {
    fn(); // warm up: caches, page faults, thread wake-up
    std::vector<double> t;
    const uint64_t start = sm::now_ns();
    for (int r = 0; r < reps; r++) {
        const uint64_t t0 = sm::now_ns();
        fn();
        t.push_back(static_cast<double>(sm::now_ns() - t0) * 1e-9);
        if (r >= 2 && sm::now_ns() - start > 1000000000ull) break;
    }
    return median(t);
}

struct Job {
    const Kernels *k;
    sm::kern::Matrix w;
    const void *act;
    size_t arb;
    int M, N, tasks;
    float *y;
};

void run_task(void *ctx, int t) {
    const Job &j = *static_cast<const Job *>(ctx);
    // Slices of N on 16-row boundaries, as the forward pass cuts its tasks (infer/forward.cpp;
    // whole row groups for every table). Rounding each slice up to 64 rows, as this did
    // before, gave N = 288 a 192 / 96 split at 2 threads.
    const int units = (j.N + 15) / 16;
    const int n0 = std::min(j.N, units * t / j.tasks * 16), n1 = std::min(j.N, units * (t + 1) / j.tasks * 16);
    if (n0 < n1) j.k->matmul(j.w, j.act, j.arb, j.M, j.y, j.N, n0, n1);
}

} // namespace

int cmd_bench_gemm(int argc, char **argv) {
    Args a;
    const sm::CpuFeatures f = sm::detect_cpu();
    a.k = sm::kern::kernels_for(sm::best_isa(f), f);
    for (int i = 2; i < argc; i++) { // argv[1] is the command
        const char *s = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (!strcmp(s, "--isa") && v) {
            const Kernels *all[16];
            const int n = sm::kern::all_tables(all, 16);
            a.k = nullptr;
            for (int t = 0; t < n; t++)
                if (!strcmp(all[t]->name, v)) a.k = all[t];
            if (!a.k || !sm::kern::can_run(*a.k, f)) {
                fprintf(stderr, "bench-gemm: no runnable kernel table named '%s'\n", v);
                return 2;
            }
            i++;
        } else if (!strcmp(s, "--threads") && v) {
            a.threads = std::max(1, atoi(v)), i++;
        } else if (!strcmp(s, "--reps") && v) {
            a.reps = std::max(1, atoi(v)), i++;
        } else if (!strcmp(s, "--m") && v) {
            a.ms.clear();
            for (auto &x : split(v)) a.ms.push_back(std::max(1, atoi(x.c_str())));
            i++;
        } else if (!strcmp(s, "--types") && v) {
            a.types.clear();
            for (auto &x : split(v)) {
                bool found = false;
                for (uint32_t t = 0; t <= 30; t++) {
                    const sm::TypeTraits &tt = sm::type_traits(t);
                    if (tt.name && x == tt.name && sm::quant::type_convertible(static_cast<TensorType>(t))) {
                        a.types.push_back(static_cast<TensorType>(t));
                        found = true;
                    }
                }
                if (!found) {
                    fprintf(stderr, "bench-gemm: unknown type '%s'\n", x.c_str());
                    return 2;
                }
            }
            i++;
        } else if (!strcmp(s, "--no-vocab")) {
            a.vocab = false;
        } else if (!strcmp(s, "--no-blas")) {
            a.blas = false;
        } else if (!strcmp(s, "--json")) {
            a.json = true;
        } else {
            fprintf(stderr, "usage: bench-gemm [--isa scalar|avx2|avx512|avx512vnni|neon|neondot] [--threads N] [--reps R]\n"
                            "                  [--m 1,64,128,512] [--types f32,f16,bf16,q8_0,q4_0,q4_K,q6_K] [--no-vocab] "
                            "[--no-blas] [--json]\n");
            return 2;
        }
    }

    // Shapes (N, K) of the Llama-style models the runtime targets: attention (dim, dim),
    // up/gate (hidden, dim), down (dim, hidden), output (vocab, dim).
    struct Shape {
        const char *what;
        int N, K;
    };
    std::vector<Shape> shapes;
    const int dims[3][2] = {{288, 768}, {768, 2048}, {576, 1536}};
    for (auto &d : dims) {
        shapes.push_back({"attn", d[0], d[0]});
        shapes.push_back({"up", d[1], d[0]});
        shapes.push_back({"down", d[0], d[1]});
    }
    if (a.vocab) {
        shapes.push_back({"vocab", 32000, 288});
        shapes.push_back({"vocab", 32000, 768});
    }

    const bool wide = a.k->isa == SM_ISA_AVX512;
    const double peak = sm::perf::fma_peak_gflops(wide ? sm::perf::FmaWidth::Avx512 : sm::perf::FmaWidth::Avx2, a.threads, 3);
    OpenBlas blas;
    if (a.blas) blas.load();
    if (blas.set_threads) blas.set_threads(a.threads);
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    sm::ThreadPool pool;
    pool.start(a.threads - 1);
    sm::Parallel par;
    par.use_pool(&pool);

    if (!a.json) {
        printf("bench-gemm: table %s, %d thread(s), FMA peak %.1f GFLOP/s (%s, measured), OpenBLAS %s%s%s\n", a.k->name,
               a.threads, peak, wide ? "AVX-512" : "AVX2", blas.sgemm ? "loaded" : "not found",
               coretype ? ", OPENBLAS_CORETYPE=" : "", coretype ? coretype : "");
        printf("%-5s %-5s %6s %6s %4s | %9s %6s %9s | %9s %6s | %9s\n", "type", "what", "N", "K", "M", "SM GF/s", "%peak",
               "GB/s(W)", "BLAS GF/s", "SM/BLAS", "max|diff|");
    } else {
        printf("{\"table\": \"%s\", \"threads\": %d, \"fma_peak_gflops\": %.1f, \"openblas\": %s, \"results\": [", a.k->name,
               a.threads, peak, blas.sgemm ? "true" : "false");
    }
    bool first_json = true, blas_spinning = false;
    std::mt19937 g(1);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (TensorType t : a.types)
        for (const Shape &s : shapes) {
            std::vector<float> wf(static_cast<size_t>(s.N) * s.K);
            for (auto &x : wf) x = nd(g);
            const size_t rb = sm::row_bytes(t, s.K);
            if (rb == 0) continue; // K is not a whole number of blocks (K-quants need 256)
            sm::perf::HugeBuffer wq(rb * s.N + 64);
            sm::quant::quantize_rows(t, wf.data(), wq.data(), s.N, s.K);
            sm::kern::Matrix w;
            w.type = t;
            w.rows = s.N;
            w.cols = s.K;
            w.row_bytes = rb;
            w.data = wq.data();
            sm::kern::Matrix wk = w; // in the layout the loader gives this table (kernels.h)
            sm::perf::HugeBuffer w8(sm::kern::wants_rows8(*a.k, t, s.N, s.K) ? wq.size() : 0);
            if (sm::kern::wants_rows8(*a.k, t, s.N, s.K)) {
                sm::quant::interleave_rows8(t, wq.data(), w8.data(), s.N, s.K);
                wk.layout = sm::kern::Layout::Rows8;
                wk.data = w8.data();
            }
            for (int M : a.ms) {
                std::vector<float> x(static_cast<size_t>(M) * s.K);
                for (auto &v : x) v = nd(g);
                const size_t arb = a.k->act_row_bytes(t, s.K);
                std::vector<uint8_t> act(arb * M + 64);
                a.k->prepare_act(t, x.data(), s.K, M, 0, M, s.K, act.data());
                // Outputs on cache lines of their own, as the forward pass's (arena) buffers
                // are: from a std::vector, the two threads' halves of a row could share a
                // line, and its ping-pong halved 2-thread speed at N = 288.
                sm::perf::HugeBuffer yb(sizeof(float) * static_cast<size_t>(M) * s.N);
                float *y = reinterpret_cast<float *>(yb.data());
                Job job{a.k, wk, act.data(), arb, M, s.N, a.threads, y};
                // OpenBLAS's worker threads spin for about 2^28 cycles (~0.1 s) after a call
                // before they sleep: timed inside that window, our threads would share the
                // cores with them. Let them settle first.
                if (blas_spinning) std::this_thread::sleep_for(std::chrono::milliseconds(300));
                blas_spinning = false;
                const double secs = time_it(a.reps, [&] { par.run(run_task, &job, a.threads); });
                const double flops = 2.0 * M * s.N * s.K;
                const double gf = flops / secs * 1e-9, wgbs = static_cast<double>(rb) * s.N / secs * 1e-9;
                // Reference on up to 4 sampled rows of x, every output.
                double maxdiff = 0;
                const Kernels &ref = sm::kern::kRefKernels;
                const size_t rarb = ref.act_row_bytes(t, s.K);
                std::vector<uint8_t> ract(rarb);
                std::vector<float> ry(s.N);
                for (int m : {0, M / 3, 2 * M / 3, M - 1}) {
                    ref.prepare_act(t, x.data() + static_cast<size_t>(m) * s.K, s.K, 1, 0, 1, s.K, ract.data());
                    ref.matmul(w, ract.data(), rarb, 1, ry.data(), s.N, 0, s.N);
                    for (int n = 0; n < s.N; n++)
                        maxdiff = std::max(maxdiff, static_cast<double>(std::fabs(ry[n] - y[static_cast<size_t>(m) * s.N + n])));
                }
                double bgf = 0;
                if (t == TensorType::F32 && blas.sgemm) {
                    sm::perf::HugeBuffer bb(sizeof(float) * static_cast<size_t>(M) * s.N);
                    float *by = reinterpret_cast<float *>(bb.data());
                    const double bs = time_it(a.reps, [&] {
                        blas.sgemm(kRowMajor, kNoTrans, kTrans, M, s.N, s.K, 1.0f, x.data(), s.K, wf.data(), s.K, 0.0f, by, s.N);
                    });
                    bgf = flops / bs * 1e-9;
                    blas_spinning = a.threads > 1;
                }
                const char *tn = sm::type_traits(t).name;
                if (a.json) {
                    printf("%s{\"type\": \"%s\", \"what\": \"%s\", \"N\": %d, \"K\": %d, \"M\": %d, \"gflops\": %.2f, "
                           "\"peak_frac\": %.3f, "
                           "\"weight_gbs\": %.2f, \"blas_gflops\": %.2f, \"max_abs_diff\": %.3g}",
                           first_json ? "" : ", ", tn, s.what, s.N, s.K, M, gf, peak > 0 ? gf / peak : 0.0, wgbs, bgf, maxdiff);
                    first_json = false;
                } else {
                    char bbuf[32] = "-", rbuf[32] = "-";
                    if (bgf > 0) {
                        snprintf(bbuf, sizeof bbuf, "%.1f", bgf);
                        snprintf(rbuf, sizeof rbuf, "%.2f", gf / bgf);
                    }
                    printf("%-5s %-5s %6d %6d %4d | %9.1f %5.1f%% %9.1f | %9s %6s | %9.2g\n", tn, s.what, s.N, s.K, M, gf,
                           peak > 0 ? 100.0 * gf / peak : 0.0, wgbs, bbuf, rbuf, maxdiff);
                    fflush(stdout);
                }
            }
        }
    if (a.json) printf("]}\n");
    pool.stop();
    return 0;
}
