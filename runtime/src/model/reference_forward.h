// The reference forward pass: one token at a time, plain scalar loops, read top to bottom
// like llama2.c's run.c. It is the oracle the fast path (infer/forward) is tested
// against; it shares nothing with it but the weights and the GGUF dequantization.
#pragma once
#include "core/bump.h"
#include "format/model_file.h"
#include "model/weights.h"

namespace sm {

class ReferenceForward {
public:
    // Arena bytes for a context of n_ctx positions.
    static size_t bytes_needed(const Hparams &hp, int n_ctx);
    void init(const Hparams &hp, const Weights &w, int n_ctx, Bump &arena);
    // Logits (n_vocab floats) after feeding token at pos (0 <= pos < n_ctx, in order).
    const float *forward(int32_t token, int pos);

private:
    void layout(Bump &arena);
    void matmul(float *y, const float *x, const kern::Matrix &w); // y = W x

    Hparams hp_;
    const Weights *w_ = nullptr;
    int n_ctx_ = 0;
    float *x_ = nullptr, *xb_ = nullptr, *xb2_ = nullptr, *q_ = nullptr, *k_ = nullptr, *v_ = nullptr;
    float *hb_ = nullptr, *hb2_ = nullptr, *att_ = nullptr, *logits_ = nullptr, *row_ = nullptr;
    float *key_cache_ = nullptr, *value_cache_ = nullptr; // [layer][pos][kv_dim]
};

} // namespace sm
