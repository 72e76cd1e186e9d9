// The progress line `train` and `finetune` print on stderr after each optimizer step:
// redrawn in place on a terminal, a plain line every few steps otherwise.
#pragma once
#include "smallmind/smallmind.h"

#include <cstdint>

void print_train_progress(const sm_train_result &r, int64_t steps, double eta_s, bool tty, int64_t eval_every);
void print_heldout(int64_t step, float loss, bool tty);
