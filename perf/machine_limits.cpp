#include "machine_limits.h"
#include "perf/perf_commands.h"

#include "cpu_clock.h"
#include "huge_buffer.h"
#include "stats.h"

#include "core/clock.h"
#include "core/cpu.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <memory>
#include <unistd.h>
#include <vector>

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 headers trip its own uninitialized-value warnings (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#endif

namespace sm::perf {

namespace {

// One field of cpu0's cache index i in sysfs ("level", "type", "size"); "" if missing.
std::string cache_field(int i, const char *field) {
    char path[96], buf[64] = {0};
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/%s", i, field);
    FILE *f = fopen(path, "r");
    if (!f) return "";
    if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
    fclose(f);
    return buf;
}

// Size of the level-`level` data cache this CPU uses. sysfs describes the cache as this CPU
// sees it (on an EPYC VM: the 32 MiB L3 of its core complex); glibc's sysconf can report
// the package's total (256 MiB there), which would put the "L3" test in DRAM.
long cache_bytes(int level) {
    for (int i = 0; i < 8; i++) {
        const std::string lv = cache_field(i, "level");
        if (lv.empty()) break;
        if (atoi(lv.c_str()) != level || cache_field(i, "type").rfind("Instruction", 0) == 0) continue;
        const long kib = atol(cache_field(i, "size").c_str()); // "32768K"
        if (kib > 0) return kib << 10;
    }
    return sysconf(level == 1 ? _SC_LEVEL1_DCACHE_SIZE : level == 2 ? _SC_LEVEL2_CACHE_SIZE : _SC_LEVEL3_CACHE_SIZE);
}

// Runs fn(thread index) on `threads` threads released together; returns the wall time in
// seconds from the release to the last one finishing.
template <class Fn> double timed_threads(int threads, Fn fn) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> ts;
    for (int t = 1; t < threads; t++)
        ts.emplace_back([&, t] {
            ready++;
            while (!go.load(std::memory_order_acquire)) {}
            fn(t);
        });
    while (ready.load() < threads - 1) {}
    const uint64_t t0 = now_ns();
    go.store(true, std::memory_order_release);
    fn(0);
    for (auto &t : ts) t.join();
    return static_cast<double>(now_ns() - t0) * 1e-9;
}

volatile float g_sink;

#if defined(__x86_64__)
// 12 independent chains: FMA latency 4 x 2 ports needs at least 8 in flight.
__attribute__((target("avx2,fma"))) void fma_avx2(int64_t iters) {
    __m256 a[12];
    for (int j = 0; j < 12; j++) a[j] = _mm256_set1_ps(1.0f + j * 1e-3f);
    const __m256 m = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
    for (int64_t i = 0; i < iters; i++)
        for (int j = 0; j < 12; j++) a[j] = _mm256_fmadd_ps(a[j], m, c);
    __m256 s = a[0];
    for (int j = 1; j < 12; j++) s = _mm256_add_ps(s, a[j]);
    g_sink = _mm256_cvtss_f32(s);
}
__attribute__((target("avx512f"))) void fma_avx512(int64_t iters) {
    __m512 a[12];
    for (int j = 0; j < 12; j++) a[j] = _mm512_set1_ps(1.0f + j * 1e-3f);
    const __m512 m = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-7f);
    for (int64_t i = 0; i < iters; i++)
        for (int j = 0; j < 12; j++) a[j] = _mm512_fmadd_ps(a[j], m, c);
    __m512 s = a[0];
    for (int j = 1; j < 12; j++) s = _mm512_add_ps(s, a[j]);
    g_sink = _mm512_reduce_add_ps(s);
}
// Sums the buffer with independent accumulators, 2 loads per cycle at most.
__attribute__((target("avx2"))) void read_avx2(const float *p, size_t n, int passes) {
    __m256 a[8];
    for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
    for (int r = 0; r < passes; r++)
        for (size_t i = 0; i < n; i += 64)
            for (int j = 0; j < 8; j++) a[j] = _mm256_add_ps(a[j], _mm256_load_ps(p + i + 8 * j));
    __m256 s = a[0];
    for (int j = 1; j < 8; j++) s = _mm256_add_ps(s, a[j]);
    g_sink = _mm256_cvtss_f32(s);
}
__attribute__((target("avx512f"))) void read_avx512(const float *p, size_t n, int passes) {
    __m512 a[8];
    for (int j = 0; j < 8; j++) a[j] = _mm512_setzero_ps();
    for (int r = 0; r < passes; r++)
        for (size_t i = 0; i < n; i += 128)
            for (int j = 0; j < 8; j++) a[j] = _mm512_add_ps(a[j], _mm512_load_ps(p + i + 16 * j));
    __m512 s = a[0];
    for (int j = 1; j < 8; j++) s = _mm512_add_ps(s, a[j]);
    g_sink = _mm512_reduce_add_ps(s);
}
#endif

// A serial chain of multiply-adds: fixed work, no memory traffic, nothing to vectorize
// or fold (floating point is not reassociated). Seeded from a volatile, so no two calls
// can be merged or hoisted.
double busy_chain(long iters, double x) {
    for (long i = 0; i < iters; i++) x = x * 0.9999999 + 1e-7;
    return x;
}

// Scalar fallback for other architectures: 8 accumulators the compiler may vectorise.
void read_plain(const float *p, size_t n, int passes) {
    float a[8] = {0};
    for (int r = 0; r < passes; r++)
        for (size_t i = 0; i < n; i += 8)
            for (int j = 0; j < 8; j++) a[j] += p[i + j];
    g_sink = a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

} // namespace

double fma_peak_gflops(FmaWidth width, int threads, int reps) {
#if defined(__x86_64__)
    const CpuFeatures f = detect_cpu();
    const bool ok = width == FmaWidth::Avx2 ? (f.avx2 && f.fma) : f.avx512f;
    if (!ok) return 0.0;
    const int lanes = width == FmaWidth::Avx2 ? 8 : 16;
    const int64_t iters = width == FmaWidth::Avx2 ? 16000000 : 10000000; // ~0.1 s
    std::vector<double> g;
    for (int r = 0; r < reps; r++) {
        const double s = timed_threads(threads, [&](int) {
            if (width == FmaWidth::Avx2) fma_avx2(iters);
            else fma_avx512(iters);
        });
        g.push_back(static_cast<double>(iters) * 12 * lanes * 2 * threads / s * 1e-9);
    }
    return median(g);
#else
    (void)width, (void)threads, (void)reps;
    return 0.0;
#endif
}

double read_bandwidth_gbs(size_t bytes, int threads, int reps) {
    const size_t n = bytes / sizeof(float) / 128 * 128;
    // On 2 MiB pages, as the weights: the roofline of the pages they live on.
    std::vector<std::unique_ptr<HugeBuffer>> mem;
    std::vector<float *> bufs(threads);
    for (int t = 0; t < threads; t++) {
        mem.push_back(std::make_unique<HugeBuffer>(n * sizeof(float)));
        bufs[t] = reinterpret_cast<float *>(mem.back()->data());
        for (size_t i = 0; i < n; i++) bufs[t][i] = 1.0f;
    }
    // About 256 MiB read per thread and repetition, at least one pass.
    const int passes = std::max<int>(1, static_cast<int>((256ull << 20) / (n * sizeof(float))));
#if defined(__x86_64__)
    const CpuFeatures f = detect_cpu();
#endif
    auto read = [&](int t) {
#if defined(__x86_64__)
        if (f.avx512f) return read_avx512(bufs[t], n, passes);
        if (f.avx2) return read_avx2(bufs[t], n, passes);
#endif
        read_plain(bufs[t], n, passes);
    };
    for (int t = 0; t < threads; t++) read(t); // warm the caches / fault the pages in
    std::vector<double> g;
    for (int r = 0; r < reps; r++) {
        const double s = timed_threads(threads, read);
        g.push_back(static_cast<double>(n) * sizeof(float) * passes * threads / s * 1e-9);
    }
    return median(g);
}

Jitter timing_jitter(double seconds, double chunk_us) {
    Jitter j;
    volatile double sink = 1.0;
    // Iterations per chunk: the median of 5 timings of a calibration run, scaled.
    long iters = 1 << 16;
    std::vector<double> cal;
    for (int i = 0; i < 5; i++) {
        const uint64_t t0 = now_ns();
        sink = busy_chain(iters, sink);
        cal.push_back(static_cast<double>(now_ns() - t0) * 1e-3);
    }
    const double per_iter = median(cal) / static_cast<double>(iters);
    if (per_iter <= 0) return j;
    iters = static_cast<long>(chunk_us / per_iter);
    std::vector<double> wall, cpu;
    const double steal0 = steal_seconds();
    for (const uint64_t end = now_ns() + static_cast<uint64_t>(seconds * 1e9); now_ns() < end;) {
        const uint64_t t0 = now_ns();
        const double c0 = thread_cpu_us();
        sink = busy_chain(iters, sink);
        cpu.push_back(thread_cpu_us() - c0);
        wall.push_back(static_cast<double>(now_ns() - t0) * 1e-3);
    }
    if (steal0 >= 0) j.steal_s = steal_seconds() - steal0;
    j.chunks = static_cast<int>(wall.size());
    j.median_us = median(wall);
    auto excess = [](const std::vector<double> &v, double p) { // over v's own median
        const double x = (p >= 100 ? *std::max_element(v.begin(), v.end()) : percentile(v, p)) - median(v);
        return x > 0 ? x : 0.0;
    };
    if (!wall.empty()) {
        j.wall_p99 = excess(wall, 99), j.wall_max = excess(wall, 100);
        j.cpu_p99 = excess(cpu, 99), j.cpu_max = excess(cpu, 100);
    }
    return j;
}

} // namespace sm::perf

int cmd_machine(int argc, char **argv) {
    using namespace sm::perf;
    bool json = false;
    int threads = static_cast<int>(std::thread::hardware_concurrency());
    int reps = 5;
    double jitter_s = 5;
    for (int i = 2; i < argc; i++) { // argv[1] is the command
        if (!strcmp(argv[i], "--json")) json = true;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--jitter-s") && i + 1 < argc) jitter_s = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: machine [--json] [--threads N] [--reps R] [--jitter-s S (0: skip)]\n");
            return 2;
        }
    }
    if (threads < 1) threads = 1;
    if (reps < 1) reps = 1;
    const double a1 = fma_peak_gflops(FmaWidth::Avx2, 1, reps), an = fma_peak_gflops(FmaWidth::Avx2, threads, reps);
    const double z1 = fma_peak_gflops(FmaWidth::Avx512, 1, reps), zn = fma_peak_gflops(FmaWidth::Avx512, threads, reps);
    long l1 = cache_bytes(1), l2 = cache_bytes(2), l3 = cache_bytes(3);
    if (l1 <= 0) l1 = 32 << 10;
    if (l2 <= 0) l2 = 1 << 20;
    if (l3 <= 0) l3 = 32 << 20;
    // Half of each level per thread (2 threads share L3: a quarter each), and 8x L3 for DRAM.
    struct Level {
        const char *name;
        size_t bytes1, bytes2;
    } levels[] = {
        {"L1", static_cast<size_t>(l1) / 2, static_cast<size_t>(l1) / 2},
        {"L2", static_cast<size_t>(l2) / 2, static_cast<size_t>(l2) / 2},
        {"L3", static_cast<size_t>(l3) / 4, static_cast<size_t>(l3) / 4},
        {"DRAM", static_cast<size_t>(l3) * 8, static_cast<size_t>(l3) * 8},
    };
    double bw[4][2];
    for (int i = 0; i < 4; i++) {
        bw[i][0] = read_bandwidth_gbs(levels[i].bytes1, 1, reps);
        bw[i][1] = read_bandwidth_gbs(levels[i].bytes2, 2, reps);
    }
    // 2 ms chunks: the frame budget `frames` measures against.
    const Jitter jt = jitter_s > 0 ? timing_jitter(jitter_s, 2000) : Jitter{};
    if (json) {
        printf("{\"threads\": %d, \"reps\": %d, \"fma_gflops\": {\"avx2\": {\"1t\": %.1f, \"nt\": %.1f}, \"avx512\": {\"1t\": "
               "%.1f, \"nt\": %.1f}}, \"read_gbs\": {",
               threads, reps, a1, an, z1, zn);
        for (int i = 0; i < 4; i++)
            printf("%s\"%s\": {\"bytes_per_thread\": %zu, \"1t\": %.1f, \"2t\": %.1f}", i ? ", " : "", levels[i].name,
                   levels[i].bytes1, bw[i][0], bw[i][1]);
        printf("}, \"jitter\": {\"chunks\": %d, \"median_us\": %.1f, \"wall_excess_us_p99\": %.1f, \"wall_excess_us_max\": %.1f, "
               "\"cpu_excess_us_p99\": %.1f, \"cpu_excess_us_max\": %.1f, \"steal_s\": %.2f}}\n",
               jt.chunks, jt.median_us, jt.wall_p99, jt.wall_max, jt.cpu_p99, jt.cpu_max, jt.steal_s);
        return 0;
    }
    printf("FP32 FMA peak (GFLOP/s, median of %d)     1 thread   %d threads\n", reps, threads);
    printf("  AVX2    (12 chains of 8-lane FMA)    %8.1f   %8.1f\n", a1, an);
    printf("  AVX-512 (12 chains of 16-lane FMA)   %8.1f   %8.1f\n", z1, zn);
    printf("Read bandwidth (GB/s, median of %d)       1 thread   2 threads\n", reps);
    for (int i = 0; i < 4; i++)
        printf("  %-4s %9zu KiB per thread        %8.1f   %8.1f\n", levels[i].name, levels[i].bytes1 >> 10, bw[i][0], bw[i][1]);
    if (jt.chunks > 0) {
        printf("Timing jitter (%d chunks of fixed busy work, median %.0f us, over %.0f s)\n", jt.chunks, jt.median_us, jitter_s);
        printf("  excess over the median, wall clock     p99 %6.0f us   max %6.0f us\n", jt.wall_p99, jt.wall_max);
        printf("  excess over the median, thread CPU     p99 %6.0f us   max %6.0f us\n", jt.cpu_p99, jt.cpu_max);
        if (jt.steal_s >= 0) printf("  steal during it (all virtual CPUs)     %.2f s\n", jt.steal_s);
    }
    return 0;
}
