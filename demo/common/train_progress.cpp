#include "train_progress.h"

#include <cstdio>

void print_train_progress(const sm_train_result &r, int64_t steps, double eta_s, bool tty, int64_t eval_every) {
    if (tty)
        fprintf(stderr, "\rstep %lld/%lld  loss %.4f  lr %.2e  %.0f tok/s  ETA %.0f s   ", static_cast<long long>(r.step),
                static_cast<long long>(steps), r.loss, r.lr, r.tok_s, eta_s);
    else if (r.step % (eval_every < 10 ? eval_every : 10) == 0 || r.step == steps)
        fprintf(stderr, "step %lld/%lld loss %.4f lr %.2e %.0f tok/s ETA %.0f s\n", static_cast<long long>(r.step),
                static_cast<long long>(steps), r.loss, r.lr, r.tok_s, eta_s);
}

void print_heldout(int64_t step, float loss, bool tty) {
    fprintf(stderr, "%sstep %lld held-out loss %.4f\n", tty ? "\n" : "", static_cast<long long>(step), loss);
}
