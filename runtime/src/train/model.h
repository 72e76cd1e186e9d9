// The Llama model as training sees it: F32 master parameters in one flat array (so the
// optimizer and checkpoints see one range), their gradients, and the per-layer
// activations a forward over B x T tokens saves for the backward. The forward and the
// backward are lists of ops (units), run one at a time by the trainer's step:
//   forward:  embedding, per layer: attn_norm, qkv, rope, attention, wo + residual,
//             ffn_norm, gate|up, swiglu, down + residual; then final norm, classifier, loss
//   backward: the same in reverse, then the embedding's gradient.
// q, k, v share one matrix (their rows stacked), as do the gate and up projections, so
// each is one product forward and one backward; GGUF names map onto their row ranges.
#pragma once
#include "core/bump.h"
#include "format/model_file.h"
#include "train/ops.h"

#include <cstdint>

namespace sm::train {

// Offsets (in floats) of every parameter in the flat array: the norm vectors first (no
// weight decay), then the matrices.
struct LayerParams {
    int64_t attn_norm, wqkv, wo, ffn_norm, w13, w2;
};

// One named tensor of the flat array, as it is saved (GGUF names, ne0 = cols).
struct TensorSlot {
    char name[48];
    int64_t offset;
    int32_t rows, cols; // rows == 1: a vector
    bool decay;         // matrices decay, norms do not
};

class ParamLayout {
public:
    static constexpr int kMaxLayers = 256;
    // Fails (false) past kMaxLayers layers or on inconsistent shapes.
    bool init(const Hparams &hp, bool tied);
    const Hparams &hp() const { return hp_; }
    bool tied() const { return tied_; }
    int64_t total() const { return total_; }
    int64_t tok_embd() const { return tok_embd_; }
    int64_t output_norm() const { return output_norm_; }
    int64_t output() const { return tied_ ? tok_embd_ : output_; }
    // The norms come first in the flat array; weight decay applies from here on.
    int64_t decay_from() const { return decay_from_; }
    const LayerParams &layer(int l) const { return layers_[l]; }
    int qkv_rows() const { return hp_.q_dim() + 2 * hp_.kv_dim(); }
    // The tensors in file order.
    int n_tensors() const { return 2 + (tied_ ? 0 : 1) + 9 * hp_.n_layers; }
    TensorSlot tensor(int i) const;

private:
    Hparams hp_;
    bool tied_ = false;
    int64_t tok_embd_ = 0, output_norm_ = 0, output_ = 0, decay_from_ = 0, total_ = 0;
    LayerParams layers_[kMaxLayers] = {};
};

struct BatchShape {
    int B = 1, T = 1;
    int rows() const { return B * T; }
};

class TrainModel {
public:
    enum FwdOp { kAttnNorm, kQkv, kRope, kAttention, kWo, kFfnNorm, kW13, kSwiglu, kW2, kLayerOps };
    enum HeadOp { kFinalNorm, kClassifier, kLoss, kLossBackward, kClassifierBackward, kFinalNormBackward, kHeadOps };
    // Units of one micro-batch: embedding, layers forward, head, layers backward, embedding backward.
    int units_per_micro() const { return 2 + 2 * kLayerOps * p_.hp().n_layers + kHeadOps; }

    // The activation memory for shape s (params and grads are the trainer's).
    static size_t activation_bytes(const ParamLayout &p, BatchShape s);
    void init(const ParamLayout &p, BatchShape s, Bump &arena); // measuring or real
    void bind(const Compute &c, const float *params, float *grads) {
        c_ = c;
        params_ = params;
        grads_ = grads;
    }
    // The micro-batch's tokens (rows) and next-token targets (rows, < 0: no target), the
    // gradient scale (1 / targets of the whole optimizer step) and whether gradients
    // start from zero (the first micro-batch) or accumulate. Copies the tokens.
    void set_batch(const int32_t *tokens, const int32_t *targets, float loss_scale, bool first_micro);
    // Runs unit u of the micro-batch (0 <= u < units_per_micro()); a forward-only pass
    // (evaluation) runs units [0, forward_units()).
    void run_unit(int u) {
        const int n = parts(u);
        for (int p = 0; p < n; p++) run_part(u, p);
    }
    // The big units (products, attention) run as parts(u) pieces of about kPartFlops
    // each, over output columns or attention tasks, so a frame's slice can stop between
    // them; pieces of a product give the same bits as the whole. Fixed by the shape.
    static constexpr double kPartFlops = 4e6;
    int parts(int u) const;
    void run_part(int u, int part);
    int forward_units() const { return 1 + kLayerOps * p_.hp().n_layers + 3; }
    // Sum of the micro-batch's losses (after the loss unit).
    double loss_sum() const { return loss_sum_; }
    const float *losses() const { return losses_; }
    // Multiply-adds of unit u (the trainer's first cost estimate).
    double unit_flops(int u) const;

private:
    void layer_forward(int l, int op, int part, int n_parts);
    void layer_backward(int l, int op, int part, int n_parts);
    void head(int op, int part, int n_parts);
    int split_size(int u, int *block) const; // columns (block 16) or tasks (block 1) unit u splits over; 0: not split
    void zero_fresh_grads();

    const float *W(int64_t off) const { return params_ + off; }
    float *G(int64_t off) const { return grads_ + off; }

    ParamLayout p_;
    BatchShape s_;
    Compute c_;
    const float *params_ = nullptr;
    float *grads_ = nullptr;
    bool first_micro_ = true;
    float loss_scale_ = 1.0f;
    double loss_sum_ = 0.0;

    int32_t *tokens_ = nullptr, *targets_ = nullptr;
    float *rope_cs_ = nullptr;
    // per layer [L][rows][...]; x has L + 1 entries (x[L] is the final residual)
    float *x_ = nullptr, *xn1_ = nullptr, *rstd1_ = nullptr, *qkv_ = nullptr, *att_ = nullptr, *atty_ = nullptr;
    float *xmid_ = nullptr, *xn2_ = nullptr, *rstd2_ = nullptr, *h13_ = nullptr, *hs_ = nullptr;
    float *xnf_ = nullptr, *rstdf_ = nullptr, *logits_ = nullptr, *losses_ = nullptr;
    // backward
    float *attn_scratch_ = nullptr, *dx_ = nullptr, *dxn_ = nullptr, *dqkv_ = nullptr, *datty_ = nullptr, *dh13_ = nullptr,
          *dhs_ = nullptr;
    MatmulScratch ms_;
};

} // namespace sm::train
