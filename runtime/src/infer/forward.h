// The forward pass as a sequence of resumable units of work.
//
// A batch is a list of segments: runs of consecutive positions of one session (a prefill
// chunk, or the one token a decoding session feeds back). All segments go through the
// layers together, so each weight is read once per forward for every session.
//
// The work is an ordered list of ops per layer (norm, projections, RoPE + cache write,
// attention, output projection, SwiGLU MLP), then the head (final norm, classifier).
// Matrix products are split by output rows and attention by heads, as finely as the
// caller's deadline needs; the kernels compute every element the same way whatever the
// split, so results never depend on the slicing or the thread count.
#pragma once
#include "core/bump.h"
#include "core/parallel.h"
#include "format/model_file.h"
#include "infer/kv_cache.h"
#include "kernels/kernels.h"
#include "lora/adapter.h"
#include "model/weights.h"

#include <cstdint>

namespace sm {

struct Segment {
    const KvCache *kv = nullptr;
    int64_t pos0 = 0; // absolute position of the first row
    int n_rows = 0;
    bool want_logits = true;        // logits of the last row (a prompt's middle chunks need none)
    bool all_logits = false;        // logits for every row (teacher-forced evaluation)
    void *owner = nullptr;          // the session, for whoever consumes the logits
    lora::Use lora[lora::kMaxUses]; // adapters on this segment's rows (copied at begin())
    int n_lora = 0;
    // filled by begin():
    int row0 = 0, out_row0 = 0, n_out = 0;
    int attn_unit0 = 0, attn_blocks = 0; // attention units: (row block, head) pairs
};

constexpr int kMaxSegments = 64;     // sessions batched into one forward
constexpr int kAttnRowsPerUnit = 16; // query rows per attention unit (bounds a unit's time)

// The matrices of one matmul op (q, k, v; gate, up; or one), laid end to end: matrix i
// holds the op's rows [off[i], off[i] + w[i]->rows), and each starts on a whole unit of
// rows (see forward.cpp), so slices and tasks never split a kernel's row group.
struct OpMatrices {
    static constexpr int kMax = 3;
    int n = 0, total = 0; // total: the op's rows, each matrix rounded up to whole units
    const kern::Matrix *w[kMax] = {};
    float *y[kMax] = {};
    int64_t ld[kMax] = {};
    int off[kMax] = {};
};

struct ForwardDesc {
    int max_batch = 64;    // rows per forward
    int max_segments = 1;  // sessions per forward
    int max_out_rows = 1;  // logits rows per forward
    int max_lora_rank = 0; // adapters' largest rank (0: the model takes no adapters)
};

class Forward {
public:
    static size_t bytes_needed(const Hparams &hp, const Weights &w, const kern::Kernels &k, const ForwardDesc &d);
    void init(const Hparams &hp, const Weights &w, const kern::Kernels *k, const Parallel *par, const ForwardDesc &d,
              Bump &arena);

    // Starts a forward pass. Segments (<= max_segments, rows <= max_batch in total) and
    // tokens are copied. The caller has checked the sizes.
    void begin(const Segment *segs, int n_segs, const int32_t *tokens);
    bool busy() const { return busy_; }
    // Runs units until the deadline (now_ns() clock; 0 = no deadline) and returns how
    // many ran. Runs at least one unit when busy: a step always makes progress.
    int run(uint64_t deadline_ns);
    float progress() const;

    int n_segments() const { return n_segs_; }
    const Segment &segment(int i) const { return segs_[i]; }
    // Logits of output row i (valid once !busy()).
    const float *logits(int out_row) const { return logits_ + static_cast<int64_t>(out_row) * hp_.n_vocab; }
    int n_out() const { return n_out_; }

    // Cost model, learned from the units run so far (for the frame budget): the rate of
    // the output classifier (usually the largest matrix, streamed from DRAM).
    double ns_per_weight_byte() const { return ns_per_byte_[kHead]; }

private:
    enum Op : uint8_t {
        kEmbed,
        kAttnNorm,
        kQkv,
        kRope,
        kAttention,
        kAttnOut,
        kFfnNorm,
        kUpGate,
        kSwiglu,
        kDown,
        kHeadNorm,
        kHead,
        kDone
    };
    void layout(Bump &a);
    void advance(); // to the next op
    // One unit of the current op; `cap` limits divisible ops (rows / heads); returns the
    // amount done.
    int run_unit(int cap);
    int matmul_slice(int cap, bool residual);
    void lora_deltas();
    int attention_slice(int cap);
    void embed_rows(int B);
    void swiglu_rows(int B, const kern::Matrix &w2);
    void head_norm_rows();
    int divisible_total() const; // rows (matmul) or head-segment pairs (attention) of the op
    OpMatrices op_matrices() const;
    int matmul_range(int r0, int r1);
    // Activations for the matrices ws read from x (M rows ldx apart, K columns): plan_act
    // picks one buffer per format; convert_act fills rows [r0, r1) of the buffers, any
    // split of [0, M) giving the same bytes (the kernel table's prepare_act contract).
    void plan_act(const kern::Matrix *const *ws, int n, const float *x, int64_t ldx, int M, int K);
    void convert_act(int r0, int r1);
    bool act_needs_conversion() const;
    void convert_rows(); // convert_act over the planned batch, split across the threads
    const void *act_for(const kern::Matrix &w, size_t *row_bytes) const;
    // f(r0, r1) over rows [0, M) of K columns each, split across the threads when the rows
    // hold enough work to pay for a hand-off. Row work is per row: any split, same bits.
    template <class F> void for_rows(int M, int K, const F &f);
    template <class F> void each_row(int r0, int r1, const F &f) const;
    void rope_angles(const Segment &g, int i, int r);
    void rope_and_cache(const Segment &g, int i, int r);
    static constexpr int kMaxAttnTasks = 256;
    int attention_cuts(int u0, int u1, int *cut) const;
    void norm_rows(int B, const float *weight);
    void residual_add(int B);
    double op_cost_ns(int r0, int amount) const; // rows [r0, r0 + amount) of the op
    double row_cost_ns() const;
    double attention_macs(int units) const;

    Hparams hp_;
    const Weights *w_ = nullptr;
    const kern::Kernels *k_ = nullptr;
    const Parallel *par_ = nullptr;
    ForwardDesc d_;
    double *inv_freq_ = nullptr; // head_dim / 2

    // activations: rows x width
    float *x_ = nullptr, *xb_ = nullptr, *q_ = nullptr, *q_sink_ = nullptr, *k_buf_ = nullptr, *v_buf_ = nullptr;
    float *att_ = nullptr, *hb_ = nullptr, *hb2_ = nullptr, *proj_ = nullptr, *logits_ = nullptr;
    float *cs_ = nullptr, *cs_sink_ = nullptr;    // per row: head_dim/2 (cos, sin) pairs
    float *lora_t_ = nullptr, *lora_y_ = nullptr; // per row: A x (max_lora_rank), B A x (widest output)
    int64_t lora_ldy_ = 0;
    uint8_t *act_[3] = {nullptr, nullptr, nullptr};
    const void *act_in_[3] = {nullptr, nullptr, nullptr}; // what the matmuls read: act_[i], or
                                                          // the input rows themselves (floats)
    int act_n_ = 0;                                       // buffers in use
    kern::ActFormat act_fmt_[3] = {};                     // each buffer's format
    TensorType act_type_[3] = {};                         // a weight type of each buffer's format
    const float *act_src_ = nullptr;                      // the rows being converted
    int64_t act_ldx_ = 0;
    int act_m_ = 0, act_k_ = 0;
    size_t act_row_bytes_[3] = {0, 0, 0};
    size_t act_cap_ = 0; // bytes per act buffer per row
    int32_t *tokens_ = nullptr;
    Segment *segs_ = nullptr;
    int32_t *out_rows_ = nullptr; // batch row of each logits row

    // progress through the program
    bool busy_ = false;
    int n_rows_ = 0, n_segs_ = 0, n_out_ = 0, n_attn_units_ = 0;
    int layer_ = 0;
    Op op_ = kDone;
    int done_ = 0; // rows (over the op's matrices, see matmul_range) or attention units done
    int units_total_ = 0, units_done_ = 0;

    // Learned rates, one per op: a layer's matrices may sit in L2 while the classifier
    // streams from DRAM at a third of the speed, so one shared rate would overrun the
    // budget on the classifier. The first guesses are pessimistic so first slices are small.
    double ns_per_byte_[kDone] = {}; // per weight byte streamed (or 8 multiply-adds); init() seeds every op
    double ns_per_attn_ = 0.5;       // per attention multiply-add
    double dev_[kDone] = {};         // mean |actual / predicted - 1| of each op's units
};

} // namespace sm
