// `smallmind machine`: what this machine can do at most, to judge the kernels against:
// FP32 FMA peak (AVX2 and AVX-512 loops, 1 and N threads) and read bandwidth from L1, L2,
// L3 and DRAM-sized working sets (1 and 2 threads). Medians of several repetitions.
#pragma once
#include <cstddef>

int cmd_machine(int argc, char **argv);

namespace sm::perf {

enum class FmaWidth { Avx2, Avx512 };

// Median FP32 GFLOP/s (2 flops per FMA lane) of `threads` threads running independent
// FMA chains; 0 when the CPU lacks the instructions (or is not x86-64).
double fma_peak_gflops(FmaWidth width, int threads, int reps = 5);

// Median GB/s of `threads` threads each reading its own `bytes`-sized buffer.
double read_bandwidth_gbs(size_t bytes, int threads, int reps = 5);

} // namespace sm::perf
