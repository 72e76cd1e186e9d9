// The trainer: AdamW over the model's F32 master parameters, fed by packed token
// sequences, as a list of bounded units that a frame loop runs a slice at a time.
//
// One optimizer step is, in order:
//   for each of `accum` micro-batches: the model's units (embedding, layers forward, loss,
//     layers backward, embedding backward; see TrainModel);
//   the squared gradient norm over fixed chunks of the flat gradient (one double per chunk);
//   AdamW over the same chunks (the clip scale from the chunk sums added in chunk order);
//   when attached to a model: one unit per tensor writing it into a second buffer in the
//     model's layout;
//   the finish: the step advances and the staged tensors are swapped into the model the
//     sessions read (pointer swaps: they never see a half-updated model).
// Units compute the same bits however they are grouped into calls and whatever the
// thread count, so the weights after N steps depend only on the seed and the data.
#pragma once
#include "core/bump.h"
#include "core/error.h"
#include "session/rng.h"
#include "train/model.h"

#include <cstdint>

namespace sm::train {

struct TrainConfig {
    float lr = 1e-3f, lr_min = 1e-4f; // peak, and the cosine's floor
    float beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f, weight_decay = 0.1f;
    float grad_clip = 1.0f; // <= 0: no clipping
    int warmup_steps = 10, total_steps = 1000;
    int batch = 4, seq_len = 64, accum_steps = 1;
    uint64_t seed = 1;
    bool init_random = false; // fresh weights (seeded) instead of the model's
    bool recompute = false;   // activation checkpointing (see BatchShape::recompute)
};

// The trainer's memory, named: everything it takes from the arena at creation.
struct TrainerSizes {
    size_t params = 0, grads = 0, adam_m = 0, adam_v = 0; // one float per parameter each
    size_t activations = 0;                               // TrainModel: saved activations, backward buffers, product scratch
    size_t batch_tokens = 0;                              // one micro-batch's tokens and targets
    size_t norm_partials = 0;                             // one double per optimizer chunk
    size_t unit_costs = 0;                                // learned cost per unit kind
    size_t part_table = 0;                                // where each model unit's parts start in a micro-batch
    size_t total = 0;
};

struct TrainStepResult {
    int64_t step = 0;       // optimizer steps completed
    int32_t micro_step = 0; // micro-batch in progress within the current step
    float loss = 0.0f;      // mean loss of the last completed step
    float lr = 0.0f;        // learning rate of the last completed step
    float grad_norm = 0.0f; // its gradient norm before clipping
    float tok_s = 0.0f;     // tokens per second of compute so far
    uint32_t units = 0;     // units this call ran
    bool step_done = false; // this call completed an optimizer step
};

class Trainer {
public:
    static constexpr int64_t kOptChunk = 1 << 15; // floats per gradient-norm / AdamW chunk
    static constexpr int kChunksPerUnit = 8;

    // Sizes for this shape; false (err set) on a bad configuration.
    // In LoRA mode (p.lora()) base is the frozen model the adapters train on.
    static bool plan(const ParamLayout &p, const TrainConfig &c, TrainerSizes &out, Error &err, const FrozenBase *base = nullptr);
    // Lays everything out in `block` (TrainerSizes::total bytes) and sets the parameters
    // from `initial` (a flat array in ParamLayout order) or, with c.init_random, from the seed.
    // In LoRA mode without `initial`: A Kaiming-uniform, B zero (seeded).
    void init(const ParamLayout &p, const TrainConfig &c, const Compute &comp, void *block, const float *initial,
              const FrozenBase *base = nullptr);
    // SM_OK, or the first error of a LoRA product (a bug: shapes are checked at creation).
    sm_status status() const { return model_.status(); }

    // The token stream the batches come from: `order` holds n_train_sequences() indices
    // (caller-owned memory, as long as the trainer uses it). Sequence i is tokens
    // [i * T, i * T + T] (T inputs, T shifted targets); the last `n_heldout` sequences are
    // held out for eval().
    void set_data(const int32_t *tokens, int64_t n_tokens, int64_t n_heldout, uint32_t *order);
    static int64_t sequences_in(int64_t n_tokens, int T) { return n_tokens > T ? (n_tokens - 1) / T : 0; }
    int64_t n_train_sequences() const { return n_train_; }
    bool has_data() const { return n_train_ > 0; }

    // Runs units until budget_us has passed (at least one unit) or an optimizer step
    // ends (so the caller sees every step's result); budget_us == 0 runs to the end of
    // the current optimizer step.
    void step(uint32_t budget_us, TrainStepResult &out);
    // Mean loss over up to max_sequences held-out sequences (all when <= 0). Runs the
    // rest of an optimizer step in progress first (eval reuses its buffers).
    double eval(int64_t max_sequences);
    // Whether the trainer is between optimizer steps.
    bool at_boundary() const { return unit_ == 0; }

    // Learning rate of optimizer step s (0-based): linear warm-up, then cosine to lr_min.
    float lr_at(int64_t s) const;

    const ParamLayout &layout() const { return p_; }
    const TrainConfig &config() const { return c_; }
    const TrainerSizes &sizes() const { return sz_; }
    float *params() { return params_; }
    const float *params() const { return params_; }
    const float *grads() const { return grads_; }
    int64_t steps_done() const { return step_; }

    // Publishing to a model the sessions read: after AdamW, one unit per tensor stages
    // it (stage(user, params, i, rows...), in tasks), and the finish unit swaps all of
    // them in (swap(user)).
    struct PublishHooks {
        // rows [row0, row1) of a tensor (a multiple of 8 from 0): tasks stage one tensor
        void (*stage)(void *user, const float *params, int tensor, int row0, int row1) = nullptr;
        void (*swap)(void *user) = nullptr;
        void *user = nullptr;
    };
    void on_publish(const PublishHooks &h) { pub_ = h; }
    // Stages every tensor and swaps (outside the units: creation, checkpoint load).
    void publish_now();

    // Gradient of the mean loss of one batch (tokens/targets: batch * seq_len each) in
    // grads(); returns the mean loss. For tests and `smallmind gradients`.
    double gradient(const int32_t *tokens, const int32_t *targets);

    // Checkpoint: everything a resumed run needs to continue bit-identically.
    size_t checkpoint_bytes() const;
    void save_checkpoint(uint8_t *out) const;
    // false when the bytes belong to another shape, configuration or data.
    bool load_checkpoint(const uint8_t *in, size_t n);

private:
    int n_units() const; // per optimizer step
    int unit_kind(int u) const;
    void run_unit(int u);
    void load_batch(int micro);
    void next_sequences(int64_t *out, int n);
    void shuffle();
    void norm_unit(int i);
    void adam_unit(int i);
    void stage_unit(int i);
    // What unit u weighs against the others of its kind (its cost is learned per weight):
    // a staged tensor's elements, an optimizer unit's chunks, 1 for a model part.
    double unit_weight(int u) const;
    void finish_unit();
    int n_chunks() const { return static_cast<int>((p_.total() + kOptChunk - 1) / kOptChunk); }
    int opt_units() const { return (n_chunks() + kChunksPerUnit - 1) / kChunksPerUnit; }

    ParamLayout p_;
    TrainConfig c_;
    TrainerSizes sz_;
    Compute comp_;
    TrainModel model_;
    float *params_ = nullptr, *grads_ = nullptr, *m_ = nullptr, *v_ = nullptr;
    int32_t *batch_tokens_ = nullptr, *batch_targets_ = nullptr;
    double *norm_partials_ = nullptr;
    double *unit_ns_ = nullptr;     // learned cost per unit kind (per part for model units)
    int32_t *part_start_ = nullptr; // [units_per_micro + 1]: a micro-batch's parts, per unit
    int parts_per_micro() const { return part_start_[model_.units_per_micro()]; }
    void locate(int r, int *mu, int *part) const; // part index in a micro-batch -> unit, part
    PublishHooks pub_;
    int stage_units() const { return pub_.stage ? p_.n_tensors() : 0; }

    // data
    const int32_t *data_ = nullptr;
    int64_t n_data_ = 0, n_train_ = 0, n_heldout_ = 0;
    uint64_t data_hash_ = 0; // FNV-1a of the tokens: a checkpoint names the data it was made on
    uint32_t *order_ = nullptr;

    // progress (all of it saved in a checkpoint)
    int64_t step_ = 0;
    int unit_ = 0; // next unit of the current optimizer step
    int64_t cursor_ = 0, epoch_ = 0;
    Rng rng_;
    double loss_acc_ = 0.0; // this step's loss sum so far
    float clip_scale_ = 1.0f, last_norm_ = 0.0f, last_loss_ = 0.0f, last_lr_ = 0.0f;

    // throughput (not saved: it does not change results)
    double busy_ns_ = 0.0;
    int64_t tokens_done_ = 0;
};

} // namespace sm::train
