#pragma once
// smallmind frames --model PATH --budget-us 2000 --frames N [--threads T] [--sessions K] [--json]
int cmd_frames(int argc, char **argv);
