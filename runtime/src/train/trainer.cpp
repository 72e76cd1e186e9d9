#include "train/trainer.h"

#include "core/clock.h"

#include <cmath>
#include <cstring>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace sm::train {

namespace {

// The block's layout, run measuring (sizes) and for real (pointers).
struct Layout {
    float *params, *grads, *m, *v;
    int32_t *tokens, *targets;
    double *partials, *unit_ns;
    int32_t *part_start;
};

Layout lay_out(const ParamLayout &p, const TrainConfig &c, const FrozenBase *base, TrainModel &model, Bump &a, TrainerSizes &sz,
               int n_chunks, int n_kinds) {
    Layout L{};
    const size_t n = static_cast<size_t>(p.total()), rows = static_cast<size_t>(c.batch) * static_cast<size_t>(c.seq_len);
    auto take = [&](size_t &field, size_t bytes) {
        const size_t before = a.used;
        void *ptr = a.take(bytes);
        field = a.used - before;
        return ptr;
    };
    L.params = static_cast<float *>(take(sz.params, n * sizeof(float)));
    L.grads = static_cast<float *>(take(sz.grads, n * sizeof(float)));
    L.m = static_cast<float *>(take(sz.adam_m, n * sizeof(float)));
    L.v = static_cast<float *>(take(sz.adam_v, n * sizeof(float)));
    {
        const size_t before = a.used;
        model.init(p, BatchShape{c.batch, c.seq_len, c.recompute}, a, base);
        sz.activations = a.used - before;
    }
    {
        const size_t before = a.used;
        L.tokens = a.take_n<int32_t>(rows);
        L.targets = a.take_n<int32_t>(rows);
        sz.batch_tokens = a.used - before;
    }
    L.partials = static_cast<double *>(take(sz.norm_partials, static_cast<size_t>(n_chunks) * sizeof(double)));
    L.unit_ns = static_cast<double *>(take(sz.unit_costs, static_cast<size_t>(n_kinds) * sizeof(double)));
    L.part_start = static_cast<int32_t *>(take(sz.part_table, static_cast<size_t>(n_kinds) * sizeof(int32_t)));
    sz.total = a.used;
    return L;
}

int kinds(const TrainModel &m) { return m.units_per_micro() + 4; } // + norm, adam, stage, finish

} // namespace

bool Trainer::plan(const ParamLayout &p, const TrainConfig &c, TrainerSizes &out, Error &err, const FrozenBase *base) {
    if (c.batch < 1 || c.seq_len < 1 || c.seq_len > 512 || c.accum_steps < 1) {
        err.set(SM_ERR_INVALID_ARGUMENT, "batch %d, seq_len %d (at most 512) and accum_steps %d must be positive", c.batch,
                c.seq_len, c.accum_steps);
        return false;
    }
    if (!(c.lr > 0) || !(c.beta1 >= 0 && c.beta1 < 1) || !(c.beta2 >= 0 && c.beta2 < 1) || !(c.eps > 0) ||
        !(c.weight_decay >= 0) || c.warmup_steps < 0 || c.total_steps < 1 || !(c.lr_min >= 0)) {
        err.set(SM_ERR_INVALID_ARGUMENT, "optimizer settings out of range (lr > 0, 0 <= betas < 1, eps > 0, weight decay >= 0, "
                                         "warmup >= 0, total steps >= 1)");
        return false;
    }
    if (p.hp().head_dim > 512) {
        err.set(SM_ERR_UNSUPPORTED, "head_dim %d exceeds 512", p.hp().head_dim);
        return false;
    }
    Trainer t;
    t.p_ = p;
    Bump a = Bump::measuring();
    out = TrainerSizes{};
    if (p.lora() && !(base && base->w && base->k)) {
        err.set(SM_ERR_INVALID_ARGUMENT, "LoRA training needs the frozen base model");
        return false;
    }
    TrainModel m;
    m.init(p, BatchShape{c.batch, c.seq_len, c.recompute}, a, base);
    a = Bump::measuring();
    lay_out(p, c, base, m, a, out, t.n_chunks(), kinds(m));
    return true;
}

void Trainer::init(const ParamLayout &p, const TrainConfig &c, const Compute &comp, void *block, const float *initial,
                   const FrozenBase *base) {
    p_ = p;
    c_ = c;
    comp_ = comp;
    TrainModel probe;
    {
        Bump m = Bump::measuring();
        probe.init(p, BatchShape{c.batch, c.seq_len, c.recompute}, m, base);
    }
    Bump a = Bump::over(block, static_cast<size_t>(-1) / 2);
    const Layout L = lay_out(p, c, base, model_, a, sz_, n_chunks(), kinds(probe));
    params_ = L.params, grads_ = L.grads, m_ = L.m, v_ = L.v;
    batch_tokens_ = L.tokens, batch_targets_ = L.targets;
    norm_partials_ = L.partials, unit_ns_ = L.unit_ns, part_start_ = L.part_start;
    model_.bind(comp_, params_, grads_); // first: a unit's part count depends on the thread count
    part_start_[0] = 0;
    for (int u = 0; u < model_.units_per_micro(); u++) part_start_[u + 1] = part_start_[u] + model_.parts(u);
    const size_t n = static_cast<size_t>(p.total());
    if (initial && !c.init_random) {
        memcpy(params_, initial, n * sizeof(float));
    } else if (p.lora()) {
        // A Kaiming-uniform (bound 1 / sqrt(n_in), PyTorch's default for a linear), B zero:
        // the adapter starts as the identity and its gradient reaches A through B.
        Rng r;
        r.seed(c.seed ^ 0x10a410a410a4ull);
        memset(params_, 0, n * sizeof(float));
        for (int l = 0; l < p.hp().n_layers; l++)
            for (int t = 0; t < lora::kTargets; t++) {
                const lora::Target tt = static_cast<lora::Target>(t);
                const int64_t a0 = p.lora_a(l, tt);
                if (a0 < 0) continue;
                const int n_in = lora::target_shape(p.hp(), tt).n_in;
                const double bound = 1.0 / sqrt(static_cast<double>(n_in));
                for (int64_t i = 0; i < static_cast<int64_t>(p.lora_rank()) * n_in; i++) {
                    const double u = static_cast<double>(r.next() >> 11) * (1.0 / 9007199254740992.0);
                    params_[a0 + i] = static_cast<float>((2.0 * u - 1.0) * bound);
                }
            }
    } else {
        // norms 1, matrices N(0, 0.02) (Box-Muller in double), from the seed alone
        Rng r;
        r.seed(c.seed ^ 0x5eed5eed5eedull);
        for (int64_t i = 0; i < p.decay_from(); i++) params_[i] = 1.0f;
        for (int64_t i = p.decay_from(); i < p.total(); i++) {
            const double u1 = (static_cast<double>(r.next() >> 11) + 1.0) * (1.0 / 9007199254740992.0);
            const double u2 = static_cast<double>(r.next() >> 11) * (1.0 / 9007199254740992.0);
            params_[i] = static_cast<float>(0.02 * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
        }
    }
    memset(grads_, 0, n * sizeof(float));
    memset(m_, 0, n * sizeof(float));
    memset(v_, 0, n * sizeof(float));
    const int nk = kinds(model_);
    for (int k = 0; k < model_.units_per_micro(); k++)
        unit_ns_[k] = model_.unit_flops(k) * 0.1 / model_.parts(k); // 10 GFLOP/s to start
    // per unit weight (unit_weight): a chunk of 32K floats, a staged element, the finish
    for (int k = model_.units_per_micro(); k < nk; k++) unit_ns_[k] = 50000.0;
    unit_ns_[model_.units_per_micro() + 2] = 1.0;
    rng_.seed(c.seed);
}

void Trainer::set_data(const int32_t *tokens, int64_t n_tokens, int64_t n_heldout, uint32_t *order) {
    data_ = tokens;
    n_data_ = n_tokens;
    data_hash_ = 0xcbf29ce484222325ull;
    for (int64_t i = 0; i < n_tokens; i++) data_hash_ = (data_hash_ ^ static_cast<uint32_t>(tokens[i])) * 0x100000001b3ull;
    const int64_t n_seq = sequences_in(n_tokens, c_.seq_len);
    n_heldout_ = n_heldout < n_seq ? n_heldout : n_seq;
    n_train_ = n_seq - n_heldout_;
    order_ = order;
    for (int64_t i = 0; i < n_train_; i++) order_[i] = static_cast<uint32_t>(i);
    rng_.seed(c_.seed);
    cursor_ = 0;
    epoch_ = 0;
    shuffle();
}

void Trainer::shuffle() {
    for (int64_t i = n_train_ - 1; i > 0; i--) {
        const int64_t j = static_cast<int64_t>(rng_.next() % static_cast<uint64_t>(i + 1));
        const uint32_t t = order_[i];
        order_[i] = order_[j];
        order_[j] = t;
    }
}

void Trainer::next_sequences(int64_t *out, int n) {
    for (int i = 0; i < n; i++) {
        if (cursor_ >= n_train_) {
            cursor_ = 0;
            epoch_++;
            shuffle();
        }
        out[i] = order_[cursor_++];
    }
}

float Trainer::lr_at(int64_t s) const {
    if (s < c_.warmup_steps) return c_.lr * static_cast<float>(s + 1) / static_cast<float>(c_.warmup_steps);
    const int64_t span = c_.total_steps - c_.warmup_steps;
    if (span <= 0 || s >= c_.total_steps) return c_.lr_min;
    const double progress = static_cast<double>(s - c_.warmup_steps) / static_cast<double>(span);
    const double cosine = 0.5 * (1.0 + cos(3.141592653589793 * progress));
    return static_cast<float>(c_.lr_min + (c_.lr - c_.lr_min) * cosine);
}

// ---------------------------------------------------------------- units

int Trainer::n_units() const { return c_.accum_steps * parts_per_micro() + 2 * opt_units() + stage_units() + 1; }

void Trainer::locate(int r, int *mu, int *part) const {
    int lo = 0, hi = model_.units_per_micro(); // part_start_[lo] <= r < part_start_[hi]
    while (hi - lo > 1) {
        const int mid = (lo + hi) / 2;
        if (part_start_[mid] <= r) lo = mid;
        else hi = mid;
    }
    *mu = lo;
    *part = r - part_start_[lo];
}

int Trainer::unit_kind(int u) const {
    const int upm = model_.units_per_micro(), model_units = c_.accum_steps * parts_per_micro();
    if (u < model_units) {
        int mu, part;
        locate(u % parts_per_micro(), &mu, &part);
        return mu;
    }
    u -= model_units;
    if (u < opt_units()) return upm;
    if (u < 2 * opt_units()) return upm + 1;
    if (u < 2 * opt_units() + stage_units()) return upm + 2;
    return upm + 3;
}

double Trainer::unit_weight(int u) const {
    u -= c_.accum_steps * parts_per_micro();
    if (u < 0) return 1.0;
    if (u < 2 * opt_units()) { // norm then AdamW units: chunks, the last unit maybe fewer
        const int chunks = n_chunks() - (u % opt_units()) * kChunksPerUnit;
        return chunks < kChunksPerUnit ? chunks : kChunksPerUnit;
    }
    u -= 2 * opt_units();
    if (u < stage_units()) return static_cast<double>(p_.tensor(u).rows) * static_cast<double>(p_.tensor(u).cols);
    return 1.0;
}

void Trainer::load_batch(int micro) {
    const int T = c_.seq_len;
    for (int b = 0; b < c_.batch; b++) {
        int64_t s;
        next_sequences(&s, 1);
        const int32_t *src = data_ + s * T;
        memcpy(batch_tokens_ + static_cast<int64_t>(b) * T, src, sizeof(int32_t) * static_cast<size_t>(T));
        memcpy(batch_targets_ + static_cast<int64_t>(b) * T, src + 1, sizeof(int32_t) * static_cast<size_t>(T));
    }
    const float scale = 1.0f / (static_cast<float>(c_.batch) * static_cast<float>(T) * static_cast<float>(c_.accum_steps));
    model_.set_batch(batch_tokens_, batch_targets_, scale, micro == 0);
}

void Trainer::run_unit(int u) {
    const int upm = model_.units_per_micro(), ppm = parts_per_micro(), model_units = c_.accum_steps * ppm;
    if (u < model_units) {
        const int micro = u / ppm;
        int mu, part;
        locate(u % ppm, &mu, &part);
        if (mu == 0 && part == 0) load_batch(micro);
        model_.run_part(mu, part);
        const bool last = part == model_.parts(mu) - 1;
        if (last && mu == 1 + TrainModel::kLayerOps * p_.hp().n_layers + TrainModel::kLoss) loss_acc_ += model_.loss_sum();
        if (last && mu == upm - 1) tokens_done_ += static_cast<int64_t>(c_.batch) * c_.seq_len;
        return;
    }
    u -= model_units;
    if (u < opt_units()) return norm_unit(u);
    u -= opt_units();
    if (u < opt_units()) return adam_unit(u);
    u -= opt_units();
    if (u < stage_units()) return stage_unit(u);
    finish_unit();
}

namespace {

struct OptJob {
    Trainer *t;
    float *params, *grads, *m, *v;
    double *partials;
    int64_t total, decay_from;
    int chunk0, n_chunks;
    float lr, beta1, beta2, eps, wd, clip, bc1, bc2;
};

void norm_task(void *p, int task) {
    const OptJob &j = *static_cast<const OptJob *>(p);
    const int c = j.chunk0 + task;
    const int64_t i0 = static_cast<int64_t>(c) * Trainer::kOptChunk;
    const int64_t i1 = i0 + Trainer::kOptChunk < j.total ? i0 + Trainer::kOptChunk : j.total;
    // Eight running sums (element i into sum i mod 8, from the chunk's start), added in
    // order at the end: one chain of dependent adds was latency-bound, and the order is
    // still fixed, whatever the ISA or thread count.
    const float *g = j.grads;
    int64_t i = i0;
#if defined(__SSE2__)
    __m128d a0 = _mm_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    for (; i + 8 <= i1; i += 8) {
        const __m128 lo = _mm_loadu_ps(g + i), hi = _mm_loadu_ps(g + i + 4);
        const __m128d d0 = _mm_cvtps_pd(lo), d1 = _mm_cvtps_pd(_mm_movehl_ps(lo, lo));
        const __m128d d2 = _mm_cvtps_pd(hi), d3 = _mm_cvtps_pd(_mm_movehl_ps(hi, hi));
        a0 = _mm_add_pd(a0, _mm_mul_pd(d0, d0)), a1 = _mm_add_pd(a1, _mm_mul_pd(d1, d1));
        a2 = _mm_add_pd(a2, _mm_mul_pd(d2, d2)), a3 = _mm_add_pd(a3, _mm_mul_pd(d3, d3));
    }
    double acc[8];
    _mm_storeu_pd(acc, a0), _mm_storeu_pd(acc + 2, a1), _mm_storeu_pd(acc + 4, a2), _mm_storeu_pd(acc + 6, a3);
#else
    double acc[8] = {};
    for (; i + 8 <= i1; i += 8)
        for (int l = 0; l < 8; l++) acc[l] += static_cast<double>(g[i + l]) * g[i + l];
#endif
    for (int l = 0; i < i1; i++, l++) acc[l] += static_cast<double>(g[i]) * g[i];
    double s = 0.0;
    for (int l = 0; l < 8; l++) s += acc[l];
    j.partials[c] = s;
}

// AdamW: m, v from the clipped gradient, bias-corrected, and the decay applied to the
// weight directly (decoupled), matrices only. Four lanes at a time where SSE is there
// (every x86-64): the same IEEE operations in the same order as the scalar tail, and
// chunk boundaries are multiples of 4, so an element's bits never depend on threads.
void adam_range(const OptJob &j, int64_t i0, int64_t i1, float wd) {
    int64_t i = i0;
#if defined(__SSE2__)
    const __m128 b1 = _mm_set1_ps(j.beta1), b2 = _mm_set1_ps(j.beta2), c1 = _mm_set1_ps(1.0f - j.beta1);
    const __m128 c2 = _mm_set1_ps(1.0f - j.beta2), clip = _mm_set1_ps(j.clip), bc1 = _mm_set1_ps(j.bc1), bc2 = _mm_set1_ps(j.bc2);
    const __m128 lr = _mm_set1_ps(j.lr), lrwd = _mm_set1_ps(j.lr * wd), eps = _mm_set1_ps(j.eps);
    for (; i + 4 <= i1; i += 4) {
        const __m128 g = _mm_mul_ps(_mm_loadu_ps(j.grads + i), clip);
        const __m128 m = _mm_add_ps(_mm_mul_ps(b1, _mm_loadu_ps(j.m + i)), _mm_mul_ps(c1, g));
        const __m128 v = _mm_add_ps(_mm_mul_ps(b2, _mm_loadu_ps(j.v + i)), _mm_mul_ps(_mm_mul_ps(c2, g), g));
        _mm_storeu_ps(j.m + i, m);
        _mm_storeu_ps(j.v + i, v);
        const __m128 mhat = _mm_div_ps(m, bc1), vhat = _mm_div_ps(v, bc2);
        __m128 w = _mm_loadu_ps(j.params + i);
        w = _mm_sub_ps(w, _mm_mul_ps(lrwd, w));
        w = _mm_sub_ps(w, _mm_div_ps(_mm_mul_ps(lr, mhat), _mm_add_ps(_mm_sqrt_ps(vhat), eps)));
        _mm_storeu_ps(j.params + i, w);
    }
#endif
    const float lrwd1 = j.lr * wd;
    for (; i < i1; i++) {
        const float g = j.grads[i] * j.clip;
        const float m = j.beta1 * j.m[i] + (1.0f - j.beta1) * g;
        const float v = j.beta2 * j.v[i] + ((1.0f - j.beta2) * g) * g;
        j.m[i] = m;
        j.v[i] = v;
        const float mhat = m / j.bc1, vhat = v / j.bc2;
        float w = j.params[i];
        w = w - lrwd1 * w;
        j.params[i] = w - (j.lr * mhat) / (sqrtf(vhat) + j.eps);
    }
}

void adam_task(void *p, int task) {
    const OptJob &j = *static_cast<const OptJob *>(p);
    const int c = j.chunk0 + task;
    const int64_t i0 = static_cast<int64_t>(c) * Trainer::kOptChunk;
    const int64_t i1 = i0 + Trainer::kOptChunk < j.total ? i0 + Trainer::kOptChunk : j.total;
    const int64_t split = j.decay_from < i0 ? i0 : j.decay_from > i1 ? i1 : j.decay_from;
    adam_range(j, i0, split, 0.0f); // norms: no decay
    adam_range(j, split, i1, j.wd);
}

void run_tasks(const Compute &c, TaskFn fn, void *ctx, int n) {
    if (c.par) c.par->run(fn, ctx, n);
    else
        for (int t = 0; t < n; t++) fn(ctx, t);
}

} // namespace

void Trainer::norm_unit(int i) {
    OptJob j{};
    j.grads = grads_;
    j.partials = norm_partials_;
    j.total = p_.total();
    j.chunk0 = i * kChunksPerUnit;
    const int left = n_chunks() - j.chunk0;
    run_tasks(comp_, norm_task, &j, left < kChunksPerUnit ? left : kChunksPerUnit);
}

void Trainer::adam_unit(int i) {
    if (i == 0) { // the chunks' sums in chunk order: the norm never depends on threads
        double s = 0.0;
        for (int c = 0; c < n_chunks(); c++) s += norm_partials_[c];
        last_norm_ = static_cast<float>(sqrt(s));
        clip_scale_ = c_.grad_clip > 0 && last_norm_ > c_.grad_clip ? c_.grad_clip / last_norm_ : 1.0f;
    }
    OptJob j{};
    j.params = params_, j.grads = grads_, j.m = m_, j.v = v_;
    j.total = p_.total();
    j.decay_from = p_.decay_from();
    j.chunk0 = i * kChunksPerUnit;
    j.lr = lr_at(step_);
    j.beta1 = c_.beta1, j.beta2 = c_.beta2, j.eps = c_.eps, j.wd = c_.weight_decay, j.clip = clip_scale_;
    j.bc1 = static_cast<float>(1.0 - pow(static_cast<double>(c_.beta1), static_cast<double>(step_ + 1)));
    j.bc2 = static_cast<float>(1.0 - pow(static_cast<double>(c_.beta2), static_cast<double>(step_ + 1)));
    const int left = n_chunks() - j.chunk0;
    run_tasks(comp_, adam_task, &j, left < kChunksPerUnit ? left : kChunksPerUnit);
}

namespace {
struct StageJob {
    const Trainer::PublishHooks *pub;
    const float *params;
    int tensor, rows, n_tasks;
};
void stage_task(void *p, int task) {
    const StageJob &j = *static_cast<const StageJob *>(p);
    const int groups = (j.rows + 7) / 8; // whole groups of 8 rows (the Rows8 layout)
    const int r0 = groups * task / j.n_tasks * 8, r1 = groups * (task + 1) / j.n_tasks * 8;
    if (r0 < r1) j.pub->stage(j.pub->user, j.params, j.tensor, r0, r1 < j.rows ? r1 : j.rows);
}
} // namespace

// One tensor into the model's staging buffer, its rows split among the threads (a matrix
// is megabytes of copying, which left the other threads idle when done serially).
void Trainer::stage_unit(int i) {
    const int rows = p_.tensor(i).rows, width = comp_.par ? comp_.par->width() : 1;
    int n = (rows + 63) / 64; // at least 64 rows a task
    if (n > width * 2) n = width * 2;
    if (n < 1) n = 1;
    StageJob j{&pub_, params_, i, rows, n};
    run_tasks(comp_, stage_task, &j, n);
}

void Trainer::finish_unit() {
    last_loss_ = static_cast<float>(loss_acc_ / (static_cast<double>(c_.batch) * c_.seq_len * c_.accum_steps));
    last_lr_ = lr_at(step_);
    loss_acc_ = 0.0;
    step_++;
    if (pub_.swap) pub_.swap(pub_.user);
}

void Trainer::publish_now() {
    if (!pub_.stage) return;
    for (int i = 0; i < p_.n_tensors(); i++) pub_.stage(pub_.user, params_, i, 0, p_.tensor(i).rows);
    pub_.swap(pub_.user);
}

void Trainer::step(uint32_t budget_us, TrainStepResult &out) {
    out = TrainStepResult{};
    Parallel::Hold hold(comp_.par);
    const uint64_t start = now_ns(), deadline = start + static_cast<uint64_t>(budget_us) * 1000u;
    uint64_t t0 = start;
    for (;;) {
        const int kind = unit_kind(unit_);
        const double weight = unit_weight(unit_);
        if (out.units > 0 && budget_us > 0 && static_cast<double>(t0) + unit_ns_[kind] * weight > static_cast<double>(deadline))
            break;
        run_unit(unit_);
        const uint64_t t1 = now_ns();
        const double took = static_cast<double>(t1 - t0);
        unit_ns_[kind] = 0.75 * unit_ns_[kind] + 0.25 * took / weight;
        busy_ns_ += took;
        t0 = t1;
        out.units++;
        if (++unit_ == n_units()) {
            unit_ = 0;
            out.step_done = true;
            break;
        }
        if (budget_us > 0 && t0 >= deadline) break;
    }
    out.step = step_;
    out.micro_step = unit_ / parts_per_micro() < c_.accum_steps ? unit_ / parts_per_micro() : c_.accum_steps - 1;
    out.loss = last_loss_;
    out.lr = last_lr_;
    out.grad_norm = last_norm_;
    out.tok_s = busy_ns_ > 0 ? static_cast<float>(static_cast<double>(tokens_done_) * 1e9 / busy_ns_) : 0.0f;
}

double Trainer::eval(int64_t max_sequences) {
    TrainStepResult r;
    if (!at_boundary()) step(0, r);
    int64_t n = n_heldout_;
    if (max_sequences > 0 && max_sequences < n) n = max_sequences;
    const int T = c_.seq_len;
    double sum = 0.0;
    int64_t count = 0;
    for (int64_t s0 = 0; s0 < n; s0 += c_.batch) {
        for (int b = 0; b < c_.batch; b++) {
            const int64_t s = s0 + b;
            int32_t *tk = batch_tokens_ + static_cast<int64_t>(b) * T, *tg = batch_targets_ + static_cast<int64_t>(b) * T;
            if (s < n) {
                const int32_t *src = data_ + (n_train_ + s) * T;
                memcpy(tk, src, sizeof(int32_t) * static_cast<size_t>(T));
                memcpy(tg, src + 1, sizeof(int32_t) * static_cast<size_t>(T));
                count += T;
            } else {
                memset(tk, 0, sizeof(int32_t) * static_cast<size_t>(T));
                for (int t = 0; t < T; t++) tg[t] = -1;
            }
        }
        model_.set_batch(batch_tokens_, batch_targets_, 1.0f, true);
        model_.set_forward_only(true);
        for (int u = 0; u < model_.forward_units(); u++) model_.run_unit(u);
        model_.set_forward_only(false);
        sum += model_.loss_sum();
    }
    return count > 0 ? sum / static_cast<double>(count) : 0.0;
}

double Trainer::gradient(const int32_t *tokens, const int32_t *targets) {
    const int64_t rows = static_cast<int64_t>(c_.batch) * c_.seq_len;
    int64_t valid = 0;
    for (int64_t r = 0; r < rows; r++) valid += targets[r] >= 0;
    model_.set_batch(tokens, targets, valid > 0 ? 1.0f / static_cast<float>(valid) : 0.0f, true);
    for (int u = 0; u < model_.units_per_micro(); u++) model_.run_unit(u);
    return valid > 0 ? model_.loss_sum() / static_cast<double>(valid) : 0.0;
}

// ---------------------------------------------------------------- checkpoints

namespace {
constexpr uint32_t kCkptMagic = 0x54434d53; // "SMCT"
constexpr uint32_t kCkptVersion = 2;

struct CkptHeader {
    uint32_t magic, version;
    int64_t total;
    int32_t batch, seq_len, accum, tied;
    uint64_t seed;
    int64_t n_train, n_data;
    uint64_t data_hash;
    int64_t step, cursor, epoch;
    uint64_t rng[4];
    float last_loss, last_lr, last_norm, pad;
};
} // namespace

size_t Trainer::checkpoint_bytes() const {
    return sizeof(CkptHeader) + static_cast<size_t>(n_train_) * sizeof(uint32_t) +
           3 * static_cast<size_t>(p_.total()) * sizeof(float);
}

void Trainer::save_checkpoint(uint8_t *out) const {
    CkptHeader h{};
    h.magic = kCkptMagic, h.version = kCkptVersion, h.total = p_.total();
    h.batch = c_.batch, h.seq_len = c_.seq_len, h.accum = c_.accum_steps, h.tied = p_.tied();
    h.seed = c_.seed, h.n_train = n_train_, h.n_data = n_data_, h.data_hash = data_hash_;
    h.step = step_, h.cursor = cursor_, h.epoch = epoch_;
    memcpy(h.rng, rng_.s, sizeof h.rng);
    h.last_loss = last_loss_, h.last_lr = last_lr_, h.last_norm = last_norm_;
    memcpy(out, &h, sizeof h);
    out += sizeof h;
    const size_t ob = static_cast<size_t>(n_train_) * sizeof(uint32_t), pb = static_cast<size_t>(p_.total()) * sizeof(float);
    if (ob) memcpy(out, order_, ob);
    out += ob;
    memcpy(out, params_, pb);
    memcpy(out + pb, m_, pb);
    memcpy(out + 2 * pb, v_, pb);
}

bool Trainer::load_checkpoint(const uint8_t *in, size_t n) {
    CkptHeader h;
    if (n < sizeof h) return false;
    memcpy(&h, in, sizeof h);
    if (h.magic != kCkptMagic || h.version != kCkptVersion || h.total != p_.total() || h.batch != c_.batch ||
        h.seq_len != c_.seq_len || h.accum != c_.accum_steps || h.tied != static_cast<int32_t>(p_.tied()) || h.seed != c_.seed ||
        h.n_train != n_train_ || h.n_data != n_data_ || h.data_hash != data_hash_ || n != checkpoint_bytes() || h.cursor < 0 ||
        h.cursor > n_train_)
        return false;
    in += sizeof h;
    const size_t ob = static_cast<size_t>(n_train_) * sizeof(uint32_t), pb = static_cast<size_t>(p_.total()) * sizeof(float);
    for (int64_t i = 0; i < n_train_; i++) {
        uint32_t o;
        memcpy(&o, in + i * 4, 4);
        if (o >= static_cast<uint64_t>(n_train_)) return false;
    }
    if (ob) memcpy(order_, in, ob);
    in += ob;
    memcpy(params_, in, pb);
    memcpy(m_, in + pb, pb);
    memcpy(v_, in + 2 * pb, pb);
    step_ = h.step, cursor_ = h.cursor, epoch_ = h.epoch;
    memcpy(rng_.s, h.rng, sizeof h.rng);
    last_loss_ = h.last_loss, last_lr_ = h.last_lr, last_norm_ = h.last_norm;
    unit_ = 0;
    loss_acc_ = 0.0;
    publish_now();
    return true;
}

} // namespace sm::train
