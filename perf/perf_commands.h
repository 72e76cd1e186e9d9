// The benchmark commands perf/ gives the `smallmind` CLI: int cmd_x(int argc, char **argv),
// argv[1] being the command's name (demo/cli/main.cpp registers them). perf/ uses the
// CLI's shared helpers in demo/common/, never demo/cli/ itself.
#pragma once

// smallmind bench --model PATH [--threads N] [--pp 128,512] [--tg 128] [--reps R] [--json]
int cmd_bench(int argc, char **argv);

// smallmind frames --model PATH --budget-us 2000 --frames N [--threads T] [--sessions K] [--json]
int cmd_frames(int argc, char **argv);

// smallmind perplexity --model PATH (--file TEXT | --tokens-file IDS | --generate N) [--ctx C] [--sinks S]
int cmd_perplexity(int argc, char **argv);

// `smallmind bench-gemm`: GFLOP/s of SmallMind's matmul on the shapes the models use, per
// weight type and kernel table, with OpenBLAS cblas_sgemm side by side for F32 (loaded
// at run time; "OpenBLAS not found" otherwise), the fraction of the measured FMA peak,
// and the max |difference| to the scalar reference on sampled rows.
int cmd_bench_gemm(int argc, char **argv);

// `smallmind bench-gemm-train`: GFLOP/s of the trainer's three products (y = x W^T,
// dx = dy W, dW = dy^T x) at a model's linear shapes, with OpenBLAS side by side.
int cmd_bench_gemm_train(int argc, char **argv);

// `smallmind machine`: what this machine can do at most, to judge the kernels against
// (see machine_limits.h).
int cmd_machine(int argc, char **argv);

// `smallmind bench-tokenizer`: encode and decode throughput (MB/s of text, median of
// repetitions) of SmallMind's tokenizers on ~1 MB of text, for each vocabulary given.
int cmd_bench_tokenizer(int argc, char **argv);

// smallmind synth-model --preset tiny|24m|134m|smol --type f32|f16|q8_0|q4_0 [--seed S] --out PATH
int cmd_synth_model(int argc, char **argv);

// smallmind bench-train: training throughput at a given shape (random weights and tokens),
// against the machine's FP32 peak; with --frame-budget-us, the per-frame overruns.
int cmd_bench_train(int argc, char **argv);

// smallmind synth-adapter --model PATH --rank R [--alpha A] [--targets q,k,...] [--b-std X] [--seed S] --out PATH
int cmd_synth_adapter(int argc, char **argv);
