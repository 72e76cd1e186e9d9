#include "infer/forward.h"
#include "core/clock.h"
#include "quant/fp16.h"

#include <cmath>
#include <cstring>

namespace sm {

namespace {

constexpr int kMinRows = 16;       // smallest matmul slice worth a clock check
constexpr int kRowsPerTask = 8;    // below this, one thread does the slice
constexpr int kTasksPerThread = 4; // matmul tasks per thread (dynamic balance)
constexpr int kTaskRowAlign = 16;  // task and slice boundaries, in rows (whole SIMD row groups)
// Slices start on kTaskRowAlign rows, as Layout::Rows8 weights need (whole 8-row groups).
static_assert(kMinRows % kTaskRowAlign == 0, "the smallest slice must keep slice boundaries aligned");
constexpr int kOpsPerLayer = 9;      // kAttnNorm .. kDown
constexpr double kFirstRateNs = 0.5; // pessimistic first guess of every op's rate: first slices are small

size_t act_bytes_for(const kern::Kernels &k, const kern::Matrix &m) { return k.act_row_bytes(m.type, m.cols); }

} // namespace

// ---------------------------------------------------------------- memory

size_t Forward::bytes_needed(const Hparams &hp, const Weights &w, const kern::Kernels &k, const ForwardDesc &d) {
    Forward f;
    f.hp_ = hp;
    f.w_ = &w;
    f.k_ = &k;
    f.d_ = d;
    Bump m = Bump::measuring();
    f.layout(m);
    return m.used;
}

void Forward::layout(Bump &a) {
    const size_t B = static_cast<size_t>(d_.max_batch), O = static_cast<size_t>(d_.max_out_rows);
    const size_t dim = static_cast<size_t>(hp_.dim), qd = static_cast<size_t>(hp_.q_dim());
    const size_t kv = static_cast<size_t>(hp_.kv_dim()), hid = static_cast<size_t>(hp_.hidden_dim);
    const size_t half = static_cast<size_t>(hp_.head_dim / 2);
    inv_freq_ = a.take_n<double>(half);
    x_ = a.take_n<float>(B * dim);
    xb_ = a.take_n<float>(B * (dim > qd ? dim : qd));
    q_ = a.take_n<float>(B * qd);
    q_sink_ = a.take_n<float>(B * qd);
    k_buf_ = a.take_n<float>(B * kv);
    v_buf_ = a.take_n<float>(B * kv);
    att_ = a.take_n<float>(B * qd);
    hb_ = a.take_n<float>(B * hid);
    hb2_ = a.take_n<float>(B * hid);
    proj_ = a.take_n<float>(B * dim);
    logits_ = a.take_n<float>(O * static_cast<size_t>(hp_.n_vocab));
    cs_ = a.take_n<float>(B * 2 * half);
    cs_sink_ = a.take_n<float>(B * 2 * half);
    if (d_.max_lora_rank > 0) {
        size_t widest = dim > qd ? dim : qd;
        widest = widest > hid ? widest : hid;
        lora_ldy_ = static_cast<int64_t>(widest);
        lora_t_ = a.take_n<float>(B * static_cast<size_t>(d_.max_lora_rank));
        lora_y_ = a.take_n<float>(B * widest);
    }
    // The widest converted activation row any matrix wants, for each of three buffers (q,
    // k and v may each want their own format in mixed-quantization files). Matrices that
    // read the floats as they are (format 0) need none: a float model takes no buffers.
    act_cap_ = 0;
    auto widest = [&](const kern::Matrix &m) {
        if (k_->act_format(m.type) == kern::ActFormat::Floats) return;
        const size_t b = act_bytes_for(*k_, m);
        if (b > act_cap_) act_cap_ = b;
    };
    widest(w_->output);
    for (int l = 0; l < hp_.n_layers; l++) {
        const LayerWeights &L = w_->layers[l];
        for (const kern::Matrix *m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w1, &L.w2, &L.w3}) widest(*m);
    }
    act_cap_ = align_up(act_cap_, kCacheLine);
    for (auto &buf : act_) buf = act_cap_ ? a.take_n<uint8_t>(act_cap_ * B) : nullptr;
    tokens_ = a.take_n<int32_t>(B);
    segs_ = a.take_n<Segment>(static_cast<size_t>(d_.max_segments));
    out_rows_ = a.take_n<int32_t>(O);
}

void Forward::init(const Hparams &hp, const Weights &w, const kern::Kernels *k, const Parallel *par, const ForwardDesc &d,
                   Bump &arena) {
    hp_ = hp;
    w_ = &w;
    k_ = k;
    par_ = par;
    d_ = d;
    layout(arena);
    for (int i = 0; i < hp_.head_dim / 2; i++)
        inv_freq_[i] = 1.0 / pow(static_cast<double>(hp_.rope_theta), (2.0 * i) / hp_.head_dim);
    for (double &r : ns_per_byte_) r = kFirstRateNs; // every op, so none starts as free
    ns_per_attn_ = kFirstRateNs;
    busy_ = false;
    op_ = kDone;
}

// ---------------------------------------------------------------- batch set-up

void Forward::begin(const Segment *segs, int n_segs, const int32_t *tokens) {
    n_segs_ = n_segs;
    n_rows_ = 0;
    n_out_ = 0;
    n_attn_units_ = 0;
    for (int s = 0; s < n_segs; s++) {
        Segment &g = segs_[s];
        g = segs[s];
        g.row0 = n_rows_;
        g.out_row0 = n_out_;
        g.n_out = g.all_logits ? g.n_rows : (g.want_logits ? 1 : 0);
        for (int i = 0; i < g.n_out; i++) out_rows_[n_out_ + i] = g.row0 + (g.all_logits ? i : g.n_rows - 1);
        n_rows_ += g.n_rows;
        n_out_ += g.n_out;
        g.attn_unit0 = n_attn_units_;
        g.attn_blocks = (g.n_rows + kAttnRowsPerUnit - 1) / kAttnRowsPerUnit;
        n_attn_units_ += g.attn_blocks * hp_.n_heads;
    }
    memcpy(tokens_, tokens, sizeof(int32_t) * static_cast<size_t>(n_rows_));
    busy_ = n_rows_ > 0;
    layer_ = 0;
    op_ = kEmbed;
    done_ = 0;
    units_done_ = 0;
    units_total_ = 1 + hp_.n_layers * kOpsPerLayer + 2;
}

float Forward::progress() const {
    if (!busy_) return 1.0f;
    int at = op_ == kEmbed      ? 0
             : op_ >= kHeadNorm ? 1 + hp_.n_layers * kOpsPerLayer + (op_ - kHeadNorm)
                                : 1 + layer_ * kOpsPerLayer + (op_ - kAttnNorm);
    return static_cast<float>(at) / static_cast<float>(units_total_);
}

void Forward::advance() {
    done_ = 0;
    switch (op_) {
    case kEmbed: op_ = kAttnNorm; break;
    case kDown:
        if (++layer_ < hp_.n_layers) op_ = kAttnNorm;
        else if (n_out_ > 0) op_ = kHeadNorm;
        else op_ = kDone, busy_ = false; // no session wants logits from this batch
        break;
    case kHead:
        op_ = kDone;
        busy_ = false;
        break;
    default: op_ = static_cast<Op>(op_ + 1); break;
    }
}

// ---------------------------------------------------------------- helpers

namespace {

// One matrix of a matmul op: rows [n0, n1) of w times the activations into y.
struct MatmulPart {
    const kern::Matrix *w;
    const void *act;
    size_t act_bytes;
    float *y;
    int64_t ldy;
    int n0, n1;
    int unit0; // the part's first unit (kTaskRowAlign rows) among the op's units
};

// The matrices of one op (q, k and v read the same activations) go out as one parallel
// run over all their rows: one hand-off to the threads instead of one per matrix.
struct MatmulTask {
    const kern::Kernels *k;
    MatmulPart parts[OpMatrices::kMax];
    int n_parts, M, units, n_tasks;
};

void matmul_task(void *ctx, int t) {
    const MatmulTask &m = *static_cast<const MatmulTask *>(ctx);
    // Task boundaries on units: every kernel's row groups stay whole inside a task.
    const int u0 = static_cast<int>(static_cast<int64_t>(m.units) * t / m.n_tasks);
    const int u1 = static_cast<int>(static_cast<int64_t>(m.units) * (t + 1) / m.n_tasks);
    for (int i = 0; i < m.n_parts; i++) {
        const MatmulPart &p = m.parts[i];
        const int pu1 = p.unit0 + (p.n1 - p.n0 + kTaskRowAlign - 1) / kTaskRowAlign;
        const int a = u0 > p.unit0 ? u0 : p.unit0, b = u1 < pu1 ? u1 : pu1;
        if (a >= b) continue;
        const int r0 = p.n0 + (a - p.unit0) * kTaskRowAlign, r1 = p.n0 + (b - p.unit0) * kTaskRowAlign;
        m.k->matmul(*p.w, p.act, p.act_bytes, m.M, p.y, p.ldy, r0, r1 < p.n1 ? r1 : p.n1);
    }
}

struct AttnTask {
    const kern::Kernels *k;
    const kern::AttnArgs *args; // per segment
    const Segment *segs;
    int n_segs, n_heads;
    const int *cut; // task t runs units [cut[t], cut[t + 1])
};

// Units are (segment, row block, head); consecutive heads of one row block go to the
// kernel together so it can share key loads between the heads of a KV group.
void attention_task(void *ctx, int t) {
    const AttnTask &a = *static_cast<const AttnTask *>(ctx);
    int u = a.cut[t];
    const int end = a.cut[t + 1];
    int seg = 0;
    while (u < end) {
        while (u >= a.segs[seg].attn_unit0 + a.segs[seg].attn_blocks * a.n_heads) seg++;
        const Segment &g = a.segs[seg];
        const int local = u - g.attn_unit0, rb = local / a.n_heads, h0 = local % a.n_heads;
        int h1 = h0 + (end - u);
        if (h1 > a.n_heads) h1 = a.n_heads;
        kern::AttnArgs args = a.args[seg];
        const int r0 = rb * kAttnRowsPerUnit;
        args.q += r0 * args.ldq;
        args.q_sink += r0 * args.ldq;
        args.out += r0 * args.ldo;
        args.pos0 += r0;
        args.n_q = g.n_rows - r0 < kAttnRowsPerUnit ? g.n_rows - r0 : kAttnRowsPerUnit;
        a.k->attention(args, h0, h1);
        u += h1 - h0;
    }
}

} // namespace

// Rows [r0, r1) of the current op, counted over its matrices one after another, each
// rounded up to whole units (so every matrix's part starts on a unit). Returns the rows.
int Forward::matmul_range(int r0, int r1) {
    const OpMatrices m = op_matrices();
    MatmulTask t{};
    t.k = k_;
    t.M = op_ == kHead ? n_out_ : n_rows_;
    int rows = 0;
    for (int i = 0; i < m.n; i++) {
        const int a = r0 > m.off[i] ? r0 - m.off[i] : 0, b0 = r1 - m.off[i], b = b0 < m.w[i]->rows ? b0 : m.w[i]->rows;
        if (b <= a) continue;
        MatmulPart &p = t.parts[t.n_parts++];
        p.act = act_for(*m.w[i], &p.act_bytes);
        p.w = m.w[i];
        p.y = m.y[i];
        p.ldy = m.ld[i];
        p.n0 = a;
        p.n1 = b;
        p.unit0 = t.units;
        t.units += (b - a + kTaskRowAlign - 1) / kTaskRowAlign;
        rows += b - a;
    }
    int n_tasks = rows / kRowsPerTask;
    const int width = par_ ? par_->width() : 1;
    // A few tasks per thread, claimed as threads come free: on a shared machine one
    // thread can run slower for a while, and halves would make the other wait.
    if (n_tasks > width * kTasksPerThread) n_tasks = width * kTasksPerThread;
    if (n_tasks > t.units) n_tasks = t.units;
    if (width == 1 || n_tasks < 1) n_tasks = 1;
    t.n_tasks = n_tasks;
    if (n_tasks == 1 || !par_) matmul_task(&t, 0);
    else par_->run(matmul_task, &t, n_tasks);
    return rows;
}

// One buffer per distinct activation format among the matrices that read x. Floats are
// read in place (kernels/common/act.h): the matmuls read x itself, rows ldx apart, which
// stays unchanged until the op is done; other formats are converted.
void Forward::plan_act(const kern::Matrix *const *ws, int n, const float *x, int64_t ldx, int M, int K) {
    act_n_ = 0;
    act_src_ = x, act_ldx_ = ldx, act_m_ = M, act_k_ = K;
    for (int i = 0; i < n; i++) {
        const kern::ActFormat fmt = k_->act_format(ws[i]->type);
        int slot = 0;
        while (slot < act_n_ && act_fmt_[slot] != fmt) slot++;
        if (slot < act_n_) continue;
        act_n_++;
        act_fmt_[slot] = fmt;
        act_type_[slot] = ws[i]->type;
        if (fmt == kern::ActFormat::Floats) {
            act_row_bytes_[slot] = static_cast<size_t>(ldx) * sizeof(float);
            act_in_[slot] = x;
        } else {
            act_row_bytes_[slot] = k_->act_row_bytes(ws[i]->type, K);
            act_in_[slot] = act_[slot];
        }
    }
}

bool Forward::act_needs_conversion() const {
    for (int i = 0; i < act_n_; i++)
        if (act_fmt_[i] != kern::ActFormat::Floats) return true;
    return false;
}

// Rows [r0, r1) of the planned batch, at their place in the batch's layout.
void Forward::convert_act(int r0, int r1) {
    for (int i = 0; i < act_n_; i++)
        if (act_fmt_[i] != kern::ActFormat::Floats)
            k_->prepare_act(act_type_[i], act_src_, act_ldx_, act_m_, r0, r1, act_k_, act_[i]);
}

namespace {
// Below this many elements a row op is cheaper on the calling thread than a hand-off
// (a few microseconds of work): decode rows, small batches.
constexpr int64_t kParallelRowElems = 16384;
} // namespace

template <class F> void Forward::for_rows(int M, int K, const F &f) {
    const int width = par_ ? par_->width() : 1;
    if (width <= 1 || static_cast<int64_t>(M) * K < kParallelRowElems || M < 2) {
        f(0, M);
        return;
    }
    const int n = width < M ? width : M;
    struct Job {
        const F *f;
        int M, n;
    } job{&f, M, n};
    par_->run(
        [](void *ctx, int t) {
            const Job &j = *static_cast<const Job *>(ctx);
            const int r0 = static_cast<int>(static_cast<int64_t>(j.M) * t / j.n),
                      r1 = static_cast<int>(static_cast<int64_t>(j.M) * (t + 1) / j.n);
            if (r0 < r1) (*j.f)(r0, r1);
        },
        &job, n);
}

// Only the conversion, rows [0, M) (float activations need none: no hand-off then).
void Forward::convert_rows() {
    if (act_needs_conversion()) for_rows(act_m_, act_k_, [&](int r0, int r1) { convert_act(r0, r1); });
}

// xb = rmsnorm(x) over the batch rows, then their activations for the op's matrices
// (planned by plan_act), in the same hand-off.
void Forward::norm_rows(int B, const float *weight) {
    const int dim = hp_.dim;
    const float eps = hp_.norm_eps;
    for_rows(B, dim, [&](int r0, int r1) {
        for (int r = r0; r < r1; r++)
            k_->rmsnorm(xb_ + static_cast<int64_t>(r) * dim, x_ + static_cast<int64_t>(r) * dim, weight, dim, eps);
        convert_act(r0, r1);
    });
}

// x += proj over the batch rows (the residual stream after attention and after the MLP).
void Forward::residual_add(int B) {
    const int dim = hp_.dim;
    for_rows(B, dim, [&](int r0, int r1) {
        for (int r = r0; r < r1; r++) k_->add(x_ + static_cast<int64_t>(r) * dim, proj_ + static_cast<int64_t>(r) * dim, dim);
    });
}

const void *Forward::act_for(const kern::Matrix &w, size_t *row_bytes) const {
    const kern::ActFormat fmt = k_->act_format(w.type);
    for (int i = 0; i < act_n_; i++)
        if (act_fmt_[i] == fmt) {
            *row_bytes = act_row_bytes_[i];
            return act_in_[i];
        }
    *row_bytes = 0;
    return nullptr;
}

// f(segment, i, row) for the rows [r0, r1) of the batch: row i of that segment.
template <class F> void Forward::each_row(int r0, int r1, const F &f) const {
    for (int s = 0; s < n_segs_; s++) {
        const Segment &g = segs_[s];
        const int a = r0 > g.row0 ? r0 : g.row0, b = r1 < g.row0 + g.n_rows ? r1 : g.row0 + g.n_rows;
        for (int r = a; r < b; r++) f(g, r - g.row0, r);
    }
}

// RoPE angles of row r (row i of segment g) in double (exact at any position), and for a
// row past the window the rotation that moves its query to just after the sinks.
void Forward::rope_angles(const Segment &g, int i, int r) {
    const int hd = hp_.head_dim, half = hd / 2;
    const KvGeometry &geo = *g.kv->geo;
    const int64_t pos = g.pos0 + i, sink_pos = geo.n_ctx - 1;
    float *cs = cs_ + static_cast<int64_t>(r) * hd, *css = cs_sink_ + static_cast<int64_t>(r) * hd;
    for (int j = 0; j < half; j++) {
        const double a = static_cast<double>(pos) * inv_freq_[j];
        cs[2 * j] = static_cast<float>(cos(a));
        cs[2 * j + 1] = static_cast<float>(sin(a));
        if (geo.n_sinks > 0 && pos >= geo.n_ctx) {
            const double d = static_cast<double>(sink_pos - pos) * inv_freq_[j];
            css[2 * j] = static_cast<float>(cos(d));
            css[2 * j + 1] = static_cast<float>(sin(d));
        }
    }
}

// Row r's query and key rotated, its key and value into the session's KV ring (the ring
// holds a whole batch beyond the window, so no two rows of a batch share a slot), and
// past the window its query rotated for the sinks.
void Forward::rope_and_cache(const Segment &g, int i, int r) {
    const int qd = hp_.q_dim(), kvd = hp_.kv_dim(), hd = hp_.head_dim;
    const float *cs = cs_ + static_cast<int64_t>(r) * hd;
    float *q = q_ + static_cast<int64_t>(r) * qd;
    k_->rope(q, hp_.n_heads, hd, cs);
    k_->rope(k_buf_ + static_cast<int64_t>(r) * kvd, hp_.n_kv_heads, hd, cs);
    const KvCache &kv = *g.kv;
    const int64_t pos = g.pos0 + i, slot = kv.slot(pos), n_slots = kv.geo->n_slots;
    for (int h = 0; h < hp_.n_kv_heads; h++) {
        // Keys go into their block d-major (a strided scatter, once per key); values are rows.
        const float *kr = k_buf_ + static_cast<int64_t>(r) * kvd + h * hd;
        const float *vr = v_buf_ + static_cast<int64_t>(r) * kvd + h * hd;
        const int64_t ke = kern::k_index(h, slot, 0, hd, static_cast<int>(n_slots)), ve = (h * n_slots + slot) * hd;
        if (kv.f16()) {
            uint16_t *kb = reinterpret_cast<uint16_t *>(kv.k_at(layer_, ke));
            uint16_t *vb = reinterpret_cast<uint16_t *>(kv.v_at(layer_, ve));
            for (int d = 0; d < hd; d++) kb[d * kern::kKvBlock] = f32_to_fp16(kr[d]);
            for (int d = 0; d < hd; d++) vb[d] = f32_to_fp16(vr[d]);
        } else {
            float *kb = reinterpret_cast<float *>(kv.k_at(layer_, ke));
            for (int d = 0; d < hd; d++) kb[d * kern::kKvBlock] = kr[d];
            memcpy(kv.v_at(layer_, ve), vr, sizeof(float) * static_cast<size_t>(hd));
        }
    }
    if (kv.geo->n_sinks > 0 && pos >= kv.geo->n_ctx) {
        float *qs = q_sink_ + static_cast<int64_t>(r) * qd;
        memcpy(qs, q, sizeof(float) * static_cast<size_t>(qd));
        k_->rope(qs, hp_.n_heads, hd, cs_sink_ + static_cast<int64_t>(r) * hd);
    }
}

// Cuts attention units [u0, u1) into tasks of about equal cost (a causal prompt's last
// rows see many more keys than its first: equal unit counts would leave one thread with
// three quarters of the work). A few tasks per thread, claimed as threads come free.
// Cuts fall between KV groups, never inside one: the heads of a group share every key
// and value load (a decode's attention is bound by reading the cache).
// Returns the task count; cut[t] .. cut[t + 1] are task t's units.
int Forward::attention_cuts(int u0, int u1, int *cut) const {
    const int width = par_ ? par_->width() : 1;
    int n = width > 1 ? width * kTasksPerThread : 1;
    if (n > kMaxAttnTasks) n = kMaxAttnTasks;
    if (n > u1 - u0) n = u1 - u0;
    cut[0] = u0;
    if (n <= 1) {
        cut[1] = u1;
        return 1;
    }
    // A unit's cost: its rows' visible keys, plus a fixed share per row (q, softmax, out).
    auto unit_cost = [&](const Segment &g, int rb) {
        const int r0 = rb * kAttnRowsPerUnit, r1 = r0 + kAttnRowsPerUnit < g.n_rows ? r0 + kAttnRowsPerUnit : g.n_rows;
        const int64_t span = g.kv->geo->n_ctx;
        double c = 0;
        for (int r = r0; r < r1; r++) {
            const int64_t keys = g.pos0 + r + 1;
            c += static_cast<double>(keys < span ? keys : span) + 16.0;
        }
        return c;
    };
    auto each_unit = [&](const auto &f) {
        for (int s = 0; s < n_segs_; s++) {
            const Segment &g = segs_[s];
            const int a = u0 > g.attn_unit0 ? u0 - g.attn_unit0 : 0;
            const int e = g.attn_blocks * hp_.n_heads, b = u1 - g.attn_unit0 < e ? u1 - g.attn_unit0 : e;
            for (int l = a; l < b;) {
                const int rb = l / hp_.n_heads, l1 = (rb + 1) * hp_.n_heads < b ? (rb + 1) * hp_.n_heads : b;
                f(g.attn_unit0 + l, l - rb * hp_.n_heads, l1 - l, unit_cost(g, rb)); // heads h0.. of one row block
                l = l1;
            }
        }
    };
    const int group = hp_.n_heads / hp_.n_kv_heads;
    double total = 0;
    each_unit([&](int, int, int count, double c) { total += c * count; });
    int t = 1;
    double acc = 0;
    each_unit([&](int u, int h0, int count, double c) {
        for (int i = 0; i < count && t < n; i++) {
            acc += c;
            const bool group_end = (h0 + i + 1) % group == 0 || i == count - 1;
            if (group_end && acc >= total * t / n) cut[t++] = u + i + 1;
        }
    });
    while (t < n) cut[t++] = u1; // rounding: empty tasks at the end
    cut[n] = u1;
    return n;
}

// ---------------------------------------------------------------- the program

// The matrices of the current op (none for other ops), with where each one's outputs go.
OpMatrices Forward::op_matrices() const {
    const LayerWeights *L = op_ >= kAttnNorm && op_ <= kDown ? &w_->layers[layer_] : nullptr;
    const int64_t qd = hp_.q_dim(), kvd = hp_.kv_dim(), dim = hp_.dim, hid = hp_.hidden_dim;
    OpMatrices m;
    auto add = [&](const kern::Matrix &w, float *y, int64_t ld) {
        m.w[m.n] = &w, m.y[m.n] = y, m.ld[m.n] = ld, m.off[m.n] = m.total;
        m.total += (w.rows + kTaskRowAlign - 1) / kTaskRowAlign * kTaskRowAlign;
        m.n++;
    };
    switch (op_) {
    case kQkv: add(L->wq, q_, qd), add(L->wk, k_buf_, kvd), add(L->wv, v_buf_, kvd); break;
    case kAttnOut: add(L->wo, proj_, dim); break;
    case kUpGate: add(L->w1, hb_, hid), add(L->w3, hb2_, hid); break;
    case kDown: add(L->w2, proj_, dim); break;
    case kHead: add(w_->output, logits_, hp_.n_vocab); break;
    default: break;
    }
    return m;
}

int Forward::divisible_total() const { return op_ == kAttention ? n_attn_units_ : op_matrices().total; }

// The predicted cost in ns of rows [r0, r0 + amount) of the current op (attention:
// `amount` units).
// Matrix products cost their weight bytes or their multiply-adds, whichever bounds;
// attention its multiply-adds over the visible keys. Two rates, learned as we go.
double Forward::op_cost_ns(int r0, int amount) const {
    if (op_ == kAttention) return attention_macs(amount) * ns_per_attn_;
    const OpMatrices m = op_matrices();
    const int M = op_ == kHead ? n_out_ : n_rows_;
    // Each matrix's share of the rows at its own cost: mixed-quantization files give q, k
    // and v (or gate and up) different row sizes.
    double cost = 0;
    for (int i = 0; i < m.n; i++) {
        const int end = m.off[i] + m.w[i]->rows;
        const int a = r0 > m.off[i] ? r0 : m.off[i], b = r0 + amount < end ? r0 + amount : end;
        if (b <= a) continue;
        const double bytes = static_cast<double>(m.w[i]->row_bytes) * (b - a);
        const double macs = static_cast<double>(m.w[i]->cols) * (b - a) * M;
        cost += bytes > macs * 0.125 ? bytes : macs * 0.125;
    }
    return cost * ns_per_byte_[op_];
}

// The dearest single row (or attention unit) of the current op: slices are sized with it.
double Forward::row_cost_ns() const {
    if (op_ == kAttention) return op_cost_ns(0, 1);
    const OpMatrices m = op_matrices();
    double worst = 0;
    for (int i = 0; i < m.n; i++) {
        const double c = op_cost_ns(m.off[i], 1);
        worst = c > worst ? c : worst;
    }
    return worst;
}

// Multiply-adds of `units` attention units (q.k and p.v over the visible keys), taking
// the average unit of the batch.
double Forward::attention_macs(int units) const {
    double total = 0;
    for (int s = 0; s < n_segs_; s++) {
        const Segment &g = segs_[s];
        const int64_t end = g.pos0 + g.n_rows;
        const double keys = end < g.kv->geo->n_ctx ? static_cast<double>(end) : g.kv->geo->n_ctx;
        total += 2.0 * g.n_rows * keys * hp_.head_dim * hp_.n_heads;
    }
    return n_attn_units_ > 0 ? total / n_attn_units_ * units : 0;
}

int Forward::run(uint64_t deadline_ns) {
    int units = 0;
    while (busy_) {
        const uint64_t now = now_ns();
        const int total = divisible_total();
        int cap = total - done_;
        if (deadline_ns) {
            const uint64_t left = deadline_ns > now ? deadline_ns - now : 0;
            if (total > 0) {
                // Plan with the rate plus twice its typical error (as TCP sizes its
                // timeouts), so a noisy op (DRAM-bound, shared caches) gets smaller slices.
                const double per = row_cost_ns() * (1.0 + 2.0 * dev_[op_]);
                double fit_d = per > 0 ? static_cast<double>(left) / per : 1e9;
                int fit = fit_d > 1e9 ? 1 << 30 : static_cast<int>(fit_d);
                const int min = op_ == kAttention ? 1 : kMinRows;
                if (fit < min) {
                    if (units > 0) break; // the next slice would overrun: stop here
                    fit = min;
                }
                if (op_ != kAttention) fit = fit / kTaskRowAlign * kTaskRowAlign; // >= kMinRows
                if (fit < cap) cap = fit;
            } else if (units > 0 && left == 0) {
                break;
            }
        }
        const int amount = total > 0 ? (cap < total - done_ ? cap : total - done_) : 0;
        const Op op = op_;
        const double predicted = total > 0 ? op_cost_ns(done_, amount) : 0;
        const uint64_t t0 = now_ns();
        run_unit(cap);
        const double dt = static_cast<double>(now_ns() - t0);
        units++;
        units_done_++;
        // Learn the rates (exponential average; one slow sample moves them a fifth).
        if (predicted > 0) {
            double &rate = op == kAttention ? ns_per_attn_ : ns_per_byte_[op];
            const double ratio = dt / predicted;
            dev_[op] = dev_[op] * 0.8 + (ratio > 1 ? ratio - 1 : 1 - ratio) * 0.2;
            rate = rate * 0.8 + rate * ratio * 0.2;
        }
    }
    return units;
}

// One unit of the current op: the whole op for per-row work, `cap` rows (or attention
// units) of a divisible op. Returns the amount done and moves to the next op when the
// current one is finished.
int Forward::run_unit(int cap) {
    const LayerWeights *L = op_ >= kAttnNorm && op_ <= kDown ? &w_->layers[layer_] : nullptr;
    const int B = n_rows_, dim = hp_.dim;
    switch (op_) {
    case kEmbed: embed_rows(B); break;
    case kAttnNorm: {
        const kern::Matrix *ws[3] = {&L->wq, &L->wk, &L->wv};
        plan_act(ws, 3, xb_, dim, B, dim);
        norm_rows(B, L->attn_norm);
        break;
    }
    case kRope:
        for_rows(B, hp_.q_dim() + 2 * hp_.kv_dim(),
                 [&](int r0, int r1) { each_row(r0, r1, [&](const Segment &g, int i, int r) { rope_and_cache(g, i, r); }); });
        break;
    case kAttention: return attention_slice(cap);
    case kAttnOut:
        if (done_ == 0) {
            const kern::Matrix *ws[1] = {&L->wo};
            plan_act(ws, 1, att_, hp_.q_dim(), B, hp_.q_dim());
            convert_rows();
        }
        return matmul_slice(cap, /*residual=*/true);
    case kFfnNorm: {
        const kern::Matrix *ws[2] = {&L->w1, &L->w3};
        plan_act(ws, 2, xb_, dim, B, dim);
        norm_rows(B, L->ffn_norm);
        break;
    }
    case kSwiglu: swiglu_rows(B, L->w2); break;
    case kQkv:
    case kUpGate:
    case kHead: return matmul_slice(cap, /*residual=*/false);
    case kDown: return matmul_slice(cap, /*residual=*/true);
    case kHeadNorm: head_norm_rows(); break;
    case kDone: return 0;
    }
    advance();
    return 1;
}

// Rows [done_, done_ + cap) of the op's matrices taken one after another; when the last
// row is done, the residual add (attention output, MLP down) and the next op.
int Forward::matmul_slice(int cap, bool residual) {
    const int total = divisible_total();
    const int end = done_ + cap < total ? done_ + cap : total;
    const int did = matmul_range(done_, end);
    done_ = end;
    if (done_ == total) {
        lora_deltas();
        if (residual) residual_add(n_rows_);
        advance();
    }
    return did;
}

// The adapters' deltas on the op's outputs, y += s * B (A x), each segment's rows with its
// own adapters (the base product ran once for every row: S-LoRA's batching). Per row
// work, split across the threads; the kernels' products do not depend on the split.
void Forward::lora_deltas() {
    if (d_.max_lora_rank == 0 || op_ == kHead) return;
    bool any = false;
    for (int s = 0; s < n_segs_ && !any; s++) any = segs_[s].n_lora > 0;
    if (!any) return;
    struct Part {
        lora::Target t;
        const float *x;
        int64_t ldx;
        float *y;
        int64_t ldy;
    };
    const int64_t dim = hp_.dim, qd = hp_.q_dim(), kvd = hp_.kv_dim(), hid = hp_.hidden_dim;
    Part parts[3];
    int n = 0;
    switch (op_) {
    case kQkv:
        parts[n++] = {lora::Target::Q, xb_, dim, q_, qd};
        parts[n++] = {lora::Target::K, xb_, dim, k_buf_, kvd};
        parts[n++] = {lora::Target::V, xb_, dim, v_buf_, kvd};
        break;
    case kAttnOut: parts[n++] = {lora::Target::O, att_, qd, proj_, dim}; break;
    case kUpGate:
        parts[n++] = {lora::Target::Gate, xb_, dim, hb_, hid};
        parts[n++] = {lora::Target::Up, xb_, dim, hb2_, hid};
        break;
    case kDown: parts[n++] = {lora::Target::Down, hb_, hid, proj_, dim}; break;
    default: return;
    }
    const int R = d_.max_lora_rank;
    for_rows(n_rows_, 2 * R * static_cast<int>(dim + hid), [&](int r0, int r1) {
        for (int s = 0; s < n_segs_; s++) {
            const Segment &g = segs_[s];
            const int a = r0 > g.row0 ? r0 : g.row0, b = r1 < g.row0 + g.n_rows ? r1 : g.row0 + g.n_rows;
            if (a >= b) continue;
            for (int u = 0; u < g.n_lora; u++)
                for (int i = 0; i < n; i++) {
                    const Part &p = parts[i];
                    const lora::Pair &w = g.lora[u].adapter->pair(layer_, p.t);
                    if (w.rank == 0) continue;
                    const lora::Shape sh = lora::target_shape(hp_, p.t);
                    const float sc = lora::effective_scale(g.lora[u].adapter->alpha, w.rank, g.lora[u].scale);
                    kern::Matrix A, Bm;
                    A.type = Bm.type = w.type;
                    A.rows = w.rank, A.cols = sh.n_in, A.row_bytes = row_bytes(w.type, sh.n_in), A.data = w.a;
                    Bm.rows = sh.n_out, Bm.cols = w.rank, Bm.row_bytes = row_bytes(w.type, w.rank), Bm.data = w.b;
                    float *t = lora_t_ + static_cast<int64_t>(a) * R;
                    float *o = lora_y_ + static_cast<int64_t>(a) * lora_ldy_;
                    k_->matmul(A, p.x + a * p.ldx, sizeof(float) * static_cast<size_t>(p.ldx), b - a, t, R, 0, w.rank);
                    for (int r = 0; r < b - a; r++)
                        for (int j = 0; j < w.rank; j++) t[r * R + j] *= sc;
                    k_->matmul(Bm, t, sizeof(float) * static_cast<size_t>(R), b - a, o, lora_ldy_, 0, sh.n_out);
                    for (int r = 0; r < b - a; r++) k_->add(p.y + (a + r) * p.ldy, o + r * lora_ldy_, sh.n_out);
                }
        }
    });
}

// Embedding rows and each row's RoPE angles (cos and sin in double): per-row work long
// enough to be worth splitting across the threads.
void Forward::embed_rows(int B) {
    const int dim = hp_.dim;
    for_rows(B, dim + 8 * hp_.head_dim, [&](int r0, int r1) {
        for (int r = r0; r < r1; r++) k_->get_row(w_->tok_embd, tokens_[r], x_ + static_cast<int64_t>(r) * dim);
        each_row(r0, r1, [&](const Segment &g, int i, int r) { rope_angles(g, i, r); });
    });
}

// hb = silu(hb) * hb2, then its activations for the down projection, in one hand-off.
void Forward::swiglu_rows(int B, const kern::Matrix &w2) {
    const int hid = hp_.hidden_dim;
    const kern::Matrix *ws[1] = {&w2};
    plan_act(ws, 1, hb_, hid, B, hid);
    for_rows(B, hid, [&](int r0, int r1) {
        for (int r = r0; r < r1; r++) k_->swiglu(hb_ + static_cast<int64_t>(r) * hid, hb2_ + static_cast<int64_t>(r) * hid, hid);
        convert_act(r0, r1);
    });
}

// The final norm of the rows that want logits, gathered, and their classifier activations.
void Forward::head_norm_rows() {
    const int dim = hp_.dim;
    for (int i = 0; i < n_out_; i++)
        k_->rmsnorm(xb_ + static_cast<int64_t>(i) * dim, x_ + static_cast<int64_t>(out_rows_[i]) * dim, w_->output_norm, dim,
                    hp_.norm_eps);
    const kern::Matrix *ws[1] = {&w_->output};
    plan_act(ws, 1, xb_, dim, n_out_, dim);
    convert_rows();
}

// Attention units [done_, done_ + cap): one AttnArgs per segment (on the stack: the
// planner caps segments at kMaxSegments), tasks cut by cost across the threads.
int Forward::attention_slice(int cap) {
    const Hparams &p = hp_;
    const int qd = p.q_dim(), hd = p.head_dim;
    kern::AttnArgs args[kMaxSegments];
    for (int s = 0; s < n_segs_; s++) {
        const Segment &g = segs_[s];
        kern::AttnArgs &a = args[s];
        a.q = q_ + static_cast<int64_t>(g.row0) * qd;
        a.q_sink = q_sink_ + static_cast<int64_t>(g.row0) * qd;
        a.ldq = qd;
        a.n_q = g.n_rows;
        a.pos0 = g.pos0;
        if (g.kv->f16()) {
            a.k16 = reinterpret_cast<const uint16_t *>(g.kv->k(layer_));
            a.v16 = reinterpret_cast<const uint16_t *>(g.kv->v(layer_));
        } else {
            a.k = reinterpret_cast<const float *>(g.kv->k(layer_));
            a.v = reinterpret_cast<const float *>(g.kv->v(layer_));
        }
        a.n_slots = g.kv->geo->n_slots;
        a.n_sinks = g.kv->geo->n_sinks;
        a.window = g.kv->geo->window();
        a.n_heads = p.n_heads;
        a.n_kv_heads = p.n_kv_heads;
        a.head_dim = hd;
        a.scale = 1.0f / sqrtf(static_cast<float>(hd));
        a.out = att_ + static_cast<int64_t>(g.row0) * qd;
        a.ldo = qd;
    }
    const int total = n_attn_units_;
    const int p1 = done_ + cap < total ? done_ + cap : total;
    int cut[kMaxAttnTasks + 1];
    const int n_tasks = attention_cuts(done_, p1, cut);
    AttnTask t{k_, args, segs_, n_segs_, p.n_heads, cut};
    if (n_tasks <= 1 || !par_) attention_task(&t, 0);
    else par_->run(attention_task, &t, n_tasks);
    const int did = p1 - done_;
    done_ = p1;
    if (done_ == total) advance();
    return did;
}

} // namespace sm
