// `smallmind bench-gemm`: GFLOP/s of SmallMind's matmul on the shapes the models use, per
// weight type and kernel table, with OpenBLAS cblas_sgemm side by side for F32 (loaded
// at run time; "OpenBLAS not found" otherwise), the fraction of the measured FMA peak,
// and the max |difference| to the scalar reference on sampled rows.
#pragma once

int cmd_bench_gemm(int argc, char **argv);
