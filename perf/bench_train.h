#pragma once
// smallmind bench-train: training throughput at a given shape (random weights and tokens).
int cmd_bench_train(int argc, char **argv);
