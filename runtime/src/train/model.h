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
#include "lora/lora.h"
#include "lora/lora_linear.h"
#include "train/ops.h"

#include <cstdint>

namespace sm {
struct Weights;
}

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
    // LoRA mode: the pair it belongs to, and whether it is B (else A)
    int32_t layer = -1;
    lora::Target target = lora::Target::Q;
    bool is_b = false;
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
    int n_tensors() const { return lora() ? 2 * hp_.n_layers * lora_count_ : 2 + (tied_ ? 0 : 1) + 9 * hp_.n_layers; }
    TensorSlot tensor(int i) const;

    // LoRA mode: the parameters are the adapter pairs of the targets in `targets` (bit t:
    // lora::Target t) of every layer, layer-major, each A (rank rows of n_in) then B
    // (n_out rows of rank), as the adapter slots lay them out; the base stays frozen in
    // the model. All of them decay (decay_from() is 0).
    bool init_lora(const Hparams &hp, bool tied, int rank, uint32_t targets);
    bool lora() const { return lora_rank_ > 0; }
    int lora_rank() const { return lora_rank_; }
    uint32_t lora_targets() const { return lora_targets_; }
    // Offset of A of (layer, target); B follows at + rank * n_in. -1: not a target.
    int64_t lora_a(int l, lora::Target t) const {
        const int i = static_cast<int>(t);
        return lora_targets_ >> i & 1 ? l * lora_layer_ + lora_prefix_[i] : -1;
    }
    int64_t lora_b(int l, lora::Target t) const {
        const int64_t a = lora_a(l, t);
        return a < 0 ? -1 : a + static_cast<int64_t>(lora_rank_) * lora::target_shape(hp_, t).n_in;
    }

private:
    Hparams hp_;
    bool tied_ = false;
    int64_t tok_embd_ = 0, output_norm_ = 0, output_ = 0, decay_from_ = 0, total_ = 0;
    LayerParams layers_[kMaxLayers] = {};
    int lora_rank_ = 0, lora_count_ = 0; // targets per layer
    uint32_t lora_targets_ = 0;
    int64_t lora_layer_ = 0, lora_prefix_[lora::kTargets] = {}; // floats per layer, target offsets in it
};

// LoRA mode: the frozen base the adapters train on (the loaded model's weights in their
// own types, read through the lora::linear products; never copied to F32).
struct FrozenBase {
    const Weights *w = nullptr;
    const kern::Kernels *k = nullptr;
    int max_tasks = 1;       // of the thread pool: sizes the products' workspace
    float lora_scale = 1.0f; // s of W + s B A (alpha / rank, or alpha / sqrt(rank))
    double part_flops = 0;   // work per part (0: TrainModel::kLoraPartFlops); tests make it small
};

struct BatchShape {
    int B = 1, T = 1;
    // Activation checkpointing: only the layers' inputs are kept; each layer's backward
    // first runs its forward again into one layer's worth of buffers.
    bool recompute = false;
    int rows() const { return B * T; }
};

class TrainModel {
public:
    enum FwdOp { kAttnNorm, kQkv, kRope, kAttention, kWo, kFfnNorm, kW13, kSwiglu, kW2, kLayerOps };
    enum HeadOp { kFinalNorm, kClassifier, kLoss, kLossBackward, kClassifierBackward, kFinalNormBackward, kHeadOps };
    // Units of one micro-batch: embedding, layers forward, head, layers backward (each
    // after its forward again, with recompute), embedding backward.
    int units_per_micro() const { return 2 + (s_.recompute ? 3 : 2) * kLayerOps * p_.hp().n_layers + kHeadOps; }
    // What unit u of a micro-batch is.
    struct UnitPos {
        enum Kind { Embed, Forward, Head, Recompute, Backward, EmbedBackward } kind;
        int layer, op; // op: FwdOp (Forward, Recompute, Backward) or HeadOp (Head)
    };
    UnitPos unit_pos(int u) const;

    // The activation memory for shape s (params and grads are the trainer's); in LoRA
    // mode (p.lora()) base is the frozen model.
    static size_t activation_bytes(const ParamLayout &p, BatchShape s, const FrozenBase *base = nullptr);
    void init(const ParamLayout &p, BatchShape s, Bump &arena, const FrozenBase *base = nullptr); // measuring or real
    // Whether the LoRA products can run on this base (types the kernels dequantize,
    // whole Rows8 groups); err says which tensor cannot.
    static bool base_supported(const Weights &w, Error &err);
    void bind(const Compute &c, const float *params, float *grads) {
        c_ = c;
        params_ = params;
        grads_ = grads;
    }
    // The micro-batch's tokens (rows) and next-token targets (rows, < 0: no target), the
    // gradient scale (1 / targets of the whole optimizer step) and whether gradients
    // start from zero (the first micro-batch) or accumulate. Copies the tokens.
    void set_batch(const int32_t *tokens, const int32_t *targets, float loss_scale, bool first_micro);
    // Evaluation: LoRA mode's fused head then skips the loss gradient and dx.
    void set_forward_only(bool f) { forward_only_ = f; }
    // Runs unit u of the micro-batch (0 <= u < units_per_micro()); a forward-only pass
    // (evaluation) runs units [0, forward_units()).
    void run_unit(int u) {
        const int n = parts(u);
        for (int p = 0; p < n; p++) run_part(u, p);
    }
    // The big units (products, attention) run as parts(u) pieces of about kPartFlops
    // per thread each, over output columns or attention tasks, so a frame's slice can
    // stop between them; pieces of a product give the same bits as the whole. Fixed by
    // the shape and the thread count.
    static constexpr double kPartFlops = 20e6;
    int parts(int u) const;
    void run_part(int u, int part);
    int forward_units() const { return 1 + kLayerOps * p_.hp().n_layers + 3; }
    // Sum of the micro-batch's losses (after the loss unit).
    double loss_sum() const { return loss_sum_; }
    const float *losses() const { return losses_; }
    // Multiply-adds of unit u (the trainer's first cost estimate).
    double unit_flops(int u) const;

    // The first error of a LoRA product (SM_OK normally: shapes are checked at creation).
    sm_status status() const { return status_; }

private:
    void layer_forward(int l, int op, int part, int n_parts);
    // LoRA mode (train/lora_model.cpp): the same ops over the frozen base and the adapters.
    void lora_embedding_forward();
    void lora_layer_forward(int l, int op, int part, int n_parts);
    void lora_layer_backward(int l, int op, int part, int n_parts);
    void lora_head(int op);
    void init_lora(const FrozenBase &base, Bump &a);
    // LoRA units run as parts over ranges of rows (a fixed count per shape, so the bits
    // never depend on the slicing); the head is fused per chunk of rows: classifier,
    // loss, its gradient and dx in one part, so only a chunk's logits are ever held.
    static constexpr double kLoraPartFlops = 60e6;
    static int lora_head_rows(BatchShape s) { return s.rows() < 128 ? s.rows() : 128; }
    // A chunk of rows runs the head as parts too: the logits a slice of the vocabulary at
    // a time, the loss (and its gradient) a few rows at a time, then dx added up over the
    // same vocabulary slices in order.
    struct HeadSplit {
        int vocab_cols = 0, n_vocab_parts = 0; // columns per logits / dx part (whole 16s)
        int loss_rows = 0, n_loss_parts = 0;   // rows per loss part
        int per_chunk() const { return 2 * n_vocab_parts + n_loss_parts; }
    };
    HeadSplit head_split() const;
    double part_flops() const { return base_.part_flops > 0 ? base_.part_flops : kLoraPartFlops; }
    int lora_parts(int u) const;
    void lora_run(int u, int part, int n_parts);
    void lora_head_part(int part);
    lora::Linear lora_linear(int l, lora::Target t) const;
    // Rows [m0, m1) of one projection (x, y, dy, dx point at row 0).
    void lora_forward(int l, lora::Target t, const float *x, int64_t ldx, float *y, int64_t ldy, int m0, int m1);
    void lora_backward(int l, lora::Target t, const float *x, int64_t ldx, const float *dy, int64_t lddy, float *dx,
                       bool dx_accumulate, int m0, int m1);
    float *lora_t(int l, lora::Target t) const; // the saved scaled A x of (layer, target)
    void layer_backward(int l, int op, int part, int n_parts);
    void head(int op, int part, int n_parts);
    int split_size(int u, int *block) const; // columns (block 16) or tasks (block 1) unit u splits over; 0: not split
    void zero_fresh_grads();

    // The per-layer activation buffers a layer uses (one set for all with recompute).
    int64_t slot(int l) const { return s_.recompute ? 0 : l; }
    // Layer l's activations in its slot; x is the layer's input, xout its output (x_[l + 1]).
    struct LayerActs {
        float *x, *xn1, *rstd1, *qkv, *att, *atty, *xmid, *xn2, *rstd2, *h13, *hs, *xout;
    };
    LayerActs acts(int l) const;
    // The row-wise ops (norms, RoPE, SwiGLU, the loss) as tasks of kRowBlock rows: the
    // blocks are fixed by the shape, so sums over rows do not depend on the thread count.
    static constexpr int kRowBlock = 32;
    int row_blocks() const { return (s_.rows() + kRowBlock - 1) / kRowBlock; }
    template <class F> void for_row_blocks(int block, F &&f);
    void rmsnorm_backward_rows(float *dx, float *dw, const float *dout, const float *x, const float *w, const float *rstd);
    // The units the full and LoRA models share: RoPE over the q and k columns of a
    // qkv-shaped buffer (as tasks over whole sequences; backward: the inverse rotation), and
    // part `part` of n_parts of a layer's attention (over its (sequence, head) tasks).
    void rope_qkv(float *qkv, bool backward);
    void attention_part(const LayerActs &a, bool backward, int part, int n_parts);
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
    float *norm_dw_ = nullptr; // a norm weight's gradient per row block, summed in block order
    double *loss_blocks_ = nullptr;
    // LoRA mode
    FrozenBase base_;
    bool lora_ = false;
    bool forward_only_ = false;
    float *lora_t_ = nullptr;    // [L][kTargets][rows][rank]
    float *norm_sink_ = nullptr; // the frozen norms' gradients go here, unread
    void *lora_ws_ = nullptr;    // the products' workspace
    size_t lora_ws_bytes_ = 0;
    sm_status status_ = SM_OK;
};

template <class F> inline void TrainModel::for_row_blocks(int block, F &&f) {
    struct Job {
        F *f;
        int rows, block;
    } j{&f, s_.rows(), block};
    const int n = (j.rows + block - 1) / block;
    auto task = [](void *p, int t) {
        const Job &j = *static_cast<const Job *>(p);
        const int r0 = t * j.block, r1 = r0 + j.block < j.rows ? r0 + j.block : j.rows;
        (*j.f)(t, r0, r1);
    };
    if (c_.par && n > 1) c_.par->run(task, &j, n);
    else
        for (int t = 0; t < n; t++) task(&j, t);
}

} // namespace sm::train
