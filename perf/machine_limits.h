// `smallmind machine`: what this machine can do at most, to judge the kernels against:
// FP32 FMA peak (AVX2 and AVX-512 loops, 1 and N threads) and read bandwidth from L1, L2,
// L3 and DRAM-sized working sets (1 and 2 threads), and the timing jitter of fixed work.
// Medians of several repetitions.
#pragma once
#include <cstddef>

namespace sm::perf {

enum class FmaWidth { Avx2, Avx512 };

// Median FP32 GFLOP/s (2 flops per FMA lane) of `threads` threads running independent
// FMA chains; 0 when the CPU lacks the instructions (or is not x86-64).
double fma_peak_gflops(FmaWidth width, int threads, int reps = 5);

// Median GB/s of `threads` threads each reading its own `bytes`-sized buffer.
double read_bandwidth_gbs(size_t bytes, int threads, int reps = 5);

// Timing jitter: chunks of fixed busy work (no memory traffic) sized to about chunk_us,
// run for `seconds` on the calling thread; how far each chunk's wall-clock and thread-CPU
// times exceed the median chunk's. No budgeted step can hold tighter than this.
struct Jitter {
    int chunks = 0;
    double median_us = 0;
    double wall_p99 = 0, wall_max = 0, cpu_p99 = 0, cpu_max = 0; // excess over the median, µs
    double steal_s = -1;                                         // during the run; -1: unknown
};
Jitter timing_jitter(double seconds, double chunk_us);

} // namespace sm::perf
