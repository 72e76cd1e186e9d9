// The element-wise and attention ops of the Llama forward, as forward / backward pairs
// over a micro-batch of B sequences of T positions (rows r = b * T + t). Forwards save
// what their backward needs; backwards ADD into gradients of shared inputs (dx of the
// residual stream, weight gradients) and overwrite private ones. Every reduction runs
// in a fixed order (rows in increasing order, or per-task slices that never depend on
// the thread count), so results are the same bits for any thread count.
#pragma once
#include "train/matmul.h"

#include <cstdint>

namespace sm::train {

// out[r] = tok_embd[tokens[r]]
void embedding_forward(float *out, const int32_t *tokens, const float *tok_embd, int rows, int dim);
// dtok_embd[tokens[r]] += dout[r], rows in order
void embedding_backward(float *dtok_embd, const int32_t *tokens, const float *dout, int rows, int dim);

// out = x * rstd * w, rstd[r] = 1 / sqrt(mean(x[r]^2) + eps) saved
void rmsnorm_forward(float *out, float *rstd, const float *x, const float *w, int rows, int dim, float eps);
// dx += d/dx, dw += d/dw (dw summed over rows in order)
void rmsnorm_backward(float *dx, float *dw, const float *dout, const float *x, const float *w, const float *rstd, int rows,
                      int dim);

// RoPE angles: cs[t][j] = (cos, sin)(t * theta^(-2j / head_dim)), computed in double as
// the inference forward does, so a trained model rotates exactly as it will run.
void rope_table(float *cs, int T, int head_dim, float theta);
// Rotates the adjacent pairs of every head of every row in place (row r at position
// r % T); the backward rotates the gradient by the opposite angle.
void rope_forward(float *x, int64_t ld, int rows, int T, int n_heads, int head_dim, const float *cs);
void rope_backward(float *dx, int64_t ld, int rows, int T, int n_heads, int head_dim, const float *cs);

// Grouped-query causal attention. q (and dq): rows of n_heads * hd (stride ldq), k and v
// (and dk, dv): rows of n_kv_heads * hd (stride ldkv), out (and dout): rows of
// n_heads * hd (stride ldo). Saves the probabilities att[b][h][t][s] (s <= t).
struct AttnShape {
    int B, T, n_heads, n_kv_heads, head_dim;
    int64_t ldq, ldkv, ldo;
};
// The products run on the SIMD kernels per (sequence, head) over the full T x T square
// (the probabilities above the diagonal are exact zeros).
// Tasks [t0, t1) of attention_forward_tasks() (t1 < 0: all), so the op can run as several
// bounded units; the backward likewise.
inline int attention_forward_tasks(const AttnShape &s) { return s.B * s.n_heads; }
inline int attention_backward_tasks(const AttnShape &s) { return s.B * s.n_kv_heads; }
void attention_forward(const Compute &c, float *out, float *att, const float *q, const float *k, const float *v,
                       const AttnShape &s, int t0 = 0, int t1 = -1);
// dq, dk, dv are overwritten (one task per sequence and KV head: the heads sharing it are
// summed in head order). scratch: attention_scratch_floats(s).
size_t attention_scratch_floats(const AttnShape &s);
void attention_backward(const Compute &c, float *dq, float *dk, float *dv, const float *dout, const float *att, const float *q,
                        const float *k, const float *v, const AttnShape &s, float *scratch, int t0 = 0, int t1 = -1);

// h13 rows are [gate (hidden) | up (hidden)]; out = silu(gate) * up (the train table's
// kernels: element-wise, so rows may go in any split)
inline void swiglu_forward(const Compute &c, float *out, const float *h13, int rows, int hidden) {
    c.tk->swiglu_forward(out, h13, rows, hidden);
}
inline void swiglu_backward(const Compute &c, float *dh13, const float *dout, const float *h13, int rows, int hidden) {
    c.tk->swiglu_backward(dh13, dout, h13, rows, hidden);
}

// Softmax cross-entropy of each row's logits against its target (target < 0: no loss,
// zero gradient). logits become probabilities in place; losses[r] saved. Returns the
// sum of the losses, rows in order.
double crossentropy_forward(float *logits, float *losses, const int32_t *targets, int rows, int vocab);
// logits (holding the probabilities) become d(scale * sum of losses)/d(logits).
void crossentropy_backward(float *logits, const int32_t *targets, int rows, int vocab, float scale);

} // namespace sm::train
