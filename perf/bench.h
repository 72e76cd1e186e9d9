#pragma once
// smallmind bench --model PATH [--threads N] [--pp 128,512] [--tg 128] [--reps R] [--json]
int cmd_bench(int argc, char **argv);
