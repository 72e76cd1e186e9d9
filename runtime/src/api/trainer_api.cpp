// sm_trainer_*: a train::Trainer planned into one arena block of the model's runtime,
// its token data in a second block, and the model's weights republished at every
// optimizer step's end when they are F32.
#include "api/handles.h"
#include "core/clock.h"
#include "format/gguf_write.h"
#include "lora/adapter_file.h"
#include "quant/quant.h"
#include "train/trainer.h"
#include "train/weights_io.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

using namespace sm;

struct sm_trainer {
    sm_model *model = nullptr;
    train::Trainer tr;
    void *block = nullptr;      // the trainer object and its plan
    void *data_block = nullptr; // tokens and shuffle order
    size_t data_bytes = 0;
    int64_t n_heldout = 0;
    bool publishes = false;
    float **alt = nullptr; // each tensor's second buffer (see train::init_staging)
    int64_t swaps = 0;
    // SM_TRAIN_LORA: the adapter slot published into. Its pairs point either at the
    // slot's own buffers (own[tensor]) or at lora_alt (the flat layout); stage() writes
    // the one not being read, swap() flips every pointer.
    sm_adapter *adapter = nullptr;
    float **own = nullptr;
    float *lora_alt = nullptr;
    bool on_alt = false, swap_pending = false;
};

namespace {

train::TrainConfig config_of(const sm_trainer_desc &d) {
    train::TrainConfig c;
    c.lr = d.lr, c.lr_min = d.lr_min, c.beta1 = d.beta1, c.beta2 = d.beta2, c.eps = d.eps;
    c.weight_decay = d.weight_decay, c.grad_clip = d.grad_clip;
    c.warmup_steps = d.warmup_steps, c.total_steps = d.total_steps;
    c.batch = d.batch, c.seq_len = d.seq_len, c.accum_steps = d.accum_steps;
    c.seed = d.seed;
    c.init_random = d.init_random != 0;
    c.recompute = d.recompute != 0;
    return c;
}

void stage(void *user, const float *params, int tensor, int row0, int row1) {
    sm_trainer *t = static_cast<sm_trainer *>(user);
    train::stage_tensor(t->tr.layout(), t->model->w, params, t->alt, tensor, row0, row1);
}

void swap(void *user) {
    sm_trainer *t = static_cast<sm_trainer *>(user);
    train::swap_staged(t->tr.layout(), t->model->w, t->alt);
    t->swaps++;
}

// ---- LoRA publishing

bool forward_in_flight(const sm_model *m) { return m->fwd.busy() || m->worker_run.load(); }

float *lora_stage_dest(sm_trainer *t, int i) { return t->on_alt ? t->own[i] : t->lora_alt + t->tr.layout().tensor(i).offset; }

void lora_flip(sm_trainer *t) {
    t->on_alt = !t->on_alt;
    t->swap_pending = false;
    const train::ParamLayout &p = t->tr.layout();
    for (int i = 0; i < p.n_tensors(); i++) {
        const train::TensorSlot s = p.tensor(i);
        lora::Pair &pair = t->adapter->values.pair(s.layer, s.target);
        float *v = t->on_alt ? t->lora_alt + s.offset : t->own[i];
        (s.is_b ? pair.b : pair.a) = v;
    }
    t->swaps++;
}

void lora_stage(void *user, const float *params, int i, int row0, int row1) {
    sm_trainer *t = static_cast<sm_trainer *>(user);
    const train::TensorSlot s = t->tr.layout().tensor(i);
    const size_t first = static_cast<size_t>(row0) * static_cast<size_t>(s.cols);
    memcpy(lora_stage_dest(t, i) + first, params + s.offset + first,
           sizeof(float) * static_cast<size_t>(row1 - row0) * static_cast<size_t>(s.cols));
}

// A forward pass in flight may be reading the adapter: the flip waits for the next step.
void lora_swap(void *user) {
    sm_trainer *t = static_cast<sm_trainer *>(user);
    if (forward_in_flight(t->model)) t->swap_pending = true;
    else lora_flip(t);
}

// The values of an adapter the trainer continues from, in the LoRA layout `p` (whose
// rank and targets came from it). false: a pair's type cannot be read.
bool gather_adapter(const lora::Adapter &a, const train::ParamLayout &p, float *params) {
    for (int i = 0; i < p.n_tensors(); i++) {
        const train::TensorSlot s = p.tensor(i);
        const lora::Pair &pair = a.pair(s.layer, s.target);
        const int64_t n = static_cast<int64_t>(s.rows) * s.cols;
        const void *src = s.is_b ? pair.b : pair.a;
        if (pair.type == TensorType::F32) memcpy(params + s.offset, src, sizeof(float) * static_cast<size_t>(n));
        else if (!quant::dequantize_row(pair.type, src, params + s.offset, n)) return false;
    }
    return true;
}

// The rank and targets of an adapter, when every layer adapts the same projections at
// one rank (what the trainer's layout holds); 0 otherwise.
int uniform_rank(const lora::Adapter &a, uint32_t *targets) {
    int rank = 0;
    *targets = 0;
    for (int t = 0; t < lora::kTargets; t++)
        if (a.pair(0, static_cast<lora::Target>(t)).rank > 0) *targets |= 1u << t;
    for (int l = 0; l < a.n_layers; l++)
        for (int t = 0; t < lora::kTargets; t++) {
            const int r = a.pair(l, static_cast<lora::Target>(t)).rank;
            if ((r > 0) != ((*targets >> t & 1) != 0)) return 0;
            if (r > 0 && rank > 0 && r != rank) return 0;
            if (r > 0) rank = r;
        }
    return rank;
}

sm_status fail(sm_trainer *t, sm_status code, const char *message) { return t->model->rt->fail(code, "%s", message); }

// Copies the tokens and makes room for the shuffle order in a fresh data block.
sm_status take_data(sm_trainer *t, size_t n, float heldout, int32_t **tokens_out) {
    sm_runtime *rt = t->model->rt;
    const int T = t->tr.config().seq_len;
    const int64_t n_seq = train::Trainer::sequences_in(static_cast<int64_t>(n), T);
    if (n_seq < 1) return rt->fail(SM_ERR_INVALID_ARGUMENT, "%zu tokens make no sequence of seq_len + 1 = %d tokens", n, T + 1);
    int64_t held = static_cast<int64_t>(std::floor(static_cast<double>(heldout) * static_cast<double>(n_seq)));
    if (heldout > 0 && held == 0 && n_seq > 1) held = 1;
    if (held >= n_seq)
        return rt->fail(SM_ERR_INVALID_ARGUMENT, "held-out fraction %g leaves no training sequence",
                        static_cast<double>(heldout));
    const size_t bytes = align_up(n * sizeof(int32_t), kCacheLine) + static_cast<size_t>(n_seq - held) * sizeof(uint32_t);
    if (t->data_block) rt->arena.free(t->data_block);
    t->data_block = rt->arena.alloc(bytes);
    t->data_bytes = 0;
    if (!t->data_block)
        return rt->fail(SM_ERR_BUDGET, "memory budget too small: the training data needs %zu bytes, the runtime has %zu free",
                        bytes, rt->arena.largest_free());
    t->data_bytes = bytes;
    t->n_heldout = held;
    *tokens_out = static_cast<int32_t *>(t->data_block);
    return SM_OK;
}

void bind_data(sm_trainer *t, size_t n) {
    int32_t *tokens = static_cast<int32_t *>(t->data_block);
    uint32_t *order = reinterpret_cast<uint32_t *>(static_cast<uint8_t *>(t->data_block) +
                                                   align_up(n * sizeof(int32_t), kCacheLine));
    t->tr.set_data(tokens, static_cast<int64_t>(n), t->n_heldout, order);
}

void copy_vocab_keys(gguf::Writer &w, const gguf::File &f) {
    for (const gguf::KeyValue &kv : f.kv) {
        if (kv.key.substr(0, 10) != "tokenizer.") continue;
        const gguf::Value &v = kv.value;
        int64_t i;
        double x;
        switch (v.type) {
        case gguf::kString: w.set_string(kv.key, v.str); break;
        case gguf::kBool: w.set_bool(kv.key, v.raw[0] != 0); break;
        case gguf::kF32:
        case gguf::kF64:
            if (v.to_f64(&x)) w.set_f32(kv.key, static_cast<float>(x));
            break;
        case gguf::kArray:
            if (v.elem_type == gguf::kString) w.set_strings(kv.key, v.strings);
            else if (v.elem_type == gguf::kF32) {
                std::vector<float> a(v.count);
                memcpy(a.data(), v.raw, v.count * sizeof(float));
                w.set_f32s(kv.key, a);
            } else if (v.elem_type == gguf::kI32) {
                std::vector<int32_t> a(v.count);
                memcpy(a.data(), v.raw, v.count * sizeof(int32_t));
                w.set_i32s(kv.key, a);
            }
            break;
        default:
            if (v.to_i64(&i) && i >= 0 && i <= 0xffffffffll) w.set_u32(kv.key, static_cast<uint32_t>(i));
            break;
        }
    }
}

// SM_TRAIN_LORA: an adapter slot of the model, the frozen base, A/B as the parameters.
sm_status create_lora(sm_model *m, const sm_trainer_desc &desc, sm_trainer **out, size_t *need_out) {
    sm_runtime *rt = m->rt;
    const sm_adapter *from = nullptr;
    if (desc.lora_from) {
        from = api::adapter_of(desc.lora_from);
        if (!from || !from->loaded || from->model != m)
            return rt->fail(SM_ERR_INVALID_ARGUMENT, "lora_from is not a loaded adapter of this model");
    }
    int rank = desc.lora_rank;
    uint32_t targets = desc.lora_targets & SM_LORA_ALL;
    float alpha = desc.lora_alpha;
    if (from) {
        rank = uniform_rank(from->values, &targets);
        if (rank == 0)
            return rt->fail(SM_ERR_UNSUPPORTED,
                            "adapter '%s' adapts different projections or ranks in different layers: "
                            "the trainer continues adapters with one rank on the same projections of every layer",
                            from->name);
        alpha = from->values.alpha != 0.0f ? from->values.alpha : static_cast<float>(rank);
    } else {
        if (rank < 1) return rt->fail(SM_ERR_INVALID_ARGUMENT, "lora_rank %d must be at least 1", rank);
        if (targets == 0) return rt->fail(SM_ERR_INVALID_ARGUMENT, "lora_targets names no projection (SM_LORA_* bits)");
        if (!(alpha >= 0.0f) || !std::isfinite(alpha)) return rt->fail(SM_ERR_INVALID_ARGUMENT, "lora_alpha must be >= 0");
        if (alpha == 0.0f) alpha = static_cast<float>(rank);
        // rsLoRA scales by alpha / sqrt(rank): stored as the alpha whose alpha / rank is that,
        // which is how llama.cpp (alpha / rank) applies the saved file exactly.
        if (desc.lora_rslora) alpha *= std::sqrt(static_cast<float>(rank));
    }
    if (m->n_adapter_slots == 0)
        return rt->fail(SM_ERR_CAPACITY,
                        "LoRA training needs an adapter slot: load the model with sm_model_desc.max_adapters >= 1");
    if (rank > m->desc.max_lora_rank)
        return rt->fail(SM_ERR_CAPACITY, "lora_rank %d exceeds the model's max_lora_rank %d", rank, m->desc.max_lora_rank);
    sm_adapter *slot = nullptr;
    for (int i = 0; i < m->n_adapter_slots && !slot; i++)
        if (!m->adapters[i].loaded) slot = &m->adapters[i];
    if (!slot)
        return rt->fail(SM_ERR_CAPACITY, "all %d adapter slots are in use (sm_model_desc.max_adapters)", m->n_adapter_slots);
    Error err;
    if (!train::TrainModel::base_supported(m->w, err)) return rt->fail(err);
    const bool tied = m->w.output.data == m->w.tok_embd.data;
    train::ParamLayout p;
    if (!p.init_lora(m->hp, tied, rank, targets))
        return rt->fail(SM_ERR_UNSUPPORTED, "the model's shape cannot be trained (more than %d layers, or odd head size)",
                        train::ParamLayout::kMaxLayers);
    train::FrozenBase base;
    base.w = &m->w;
    base.k = rt->kernels;
    base.max_tasks = rt->par.width();
    base.lora_scale = lora::effective_scale(alpha, rank, 1.0f);
    const train::TrainConfig c = config_of(desc);
    train::TrainerSizes sz;
    if (!train::Trainer::plan(p, c, sz, err, &base)) return rt->fail(err);
    const size_t head = align_up(sizeof(sm_trainer), kCacheLine);
    const size_t alt_bytes = align_up(static_cast<size_t>(p.total()) * sizeof(float), kCacheLine);
    const size_t own_bytes = align_up(static_cast<size_t>(p.n_tensors()) * sizeof(float *), kCacheLine);
    const size_t plan = align_up(sz.total, kCacheLine); // the second buffer and pointer table start aligned
    const size_t need = head + plan + alt_bytes + own_bytes;
    if (need_out) return *need_out = need, SM_OK;
    void *block = rt->arena.alloc(need);
    if (!block)
        return rt->fail(SM_ERR_BUDGET,
                        "memory budget too small: the LoRA trainer needs %zu bytes (adapter, gradients and moments %zu, "
                        "activations %zu, the adapter's second buffer %zu), the runtime has %zu free of %zu",
                        need, sz.params + sz.grads + sz.adam_m + sz.adam_v, sz.activations, alt_bytes, rt->arena.largest_free(),
                        rt->arena.budget());
    sm_adapter *handle = static_cast<sm_adapter *>(rt->handles.issue(api::Kind::Adapter, slot));
    if (!handle) {
        rt->arena.free(block);
        return rt->fail(SM_ERR_CAPACITY, "the runtime has %d live handles, its most", api::HandleTable::kMaxHandles);
    }
    sm_trainer *t = new (block) sm_trainer;
    t->model = m;
    t->block = block;
    t->adapter = slot;
    m->trainers++;
    uint8_t *plan_mem = static_cast<uint8_t *>(block) + head;
    t->lora_alt = reinterpret_cast<float *>(plan_mem + plan);
    t->own = reinterpret_cast<float **>(plan_mem + plan + alt_bytes);
    // The slot: this rank on the targets, nothing elsewhere; its own buffers recorded.
    lora::Adapter &a = slot->values;
    for (int i = 0; i < a.n_layers * lora::kTargets; i++) a.pairs[i].rank = 0;
    for (int i = 0; i < p.n_tensors(); i++) {
        const train::TensorSlot ts = p.tensor(i);
        lora::Pair &pair = a.pair(ts.layer, ts.target);
        pair.rank = rank;
        pair.type = TensorType::F32;
        t->own[i] = static_cast<float *>(ts.is_b ? pair.b : pair.a);
    }
    float *params = reinterpret_cast<float *>(plan_mem); // the plan's first item
    const bool start_from = from && gather_adapter(from->values, p, params);
    a.alpha = alpha;
    a.rank = rank;
    train::Compute comp{rt->kernels, &rt->par, kern::train_kernels_for(rt->kernels->isa)};
    t->tr.init(p, c, comp, plan_mem, start_from ? params : nullptr, &base);
    t->publishes = true;
    train::Trainer::PublishHooks h;
    h.stage = lora_stage;
    h.swap = lora_swap;
    h.user = t;
    t->tr.on_publish(h);
    t->tr.publish_now();
    if (t->swap_pending) lora_flip(t); // a new slot: no session applies it yet
    slot->handle = handle;
    snprintf(slot->name, sizeof slot->name, "trained (rank %d)", rank);
    slot->loaded = true;
    slot->training = true;
    *out = t;
    return SM_OK;
}

sm_status create_trainer(sm_model *m, const sm_trainer_desc *d, sm_trainer **out, size_t *need_out);

} // namespace

extern "C" {

sm_trainer_desc sm_trainer_desc_default(void) {
    sm_trainer_desc d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.mode = SM_TRAIN_FULL;
    d.lr = 1e-3f;
    d.lr_min = 1e-4f;
    d.beta1 = 0.9f;
    d.beta2 = 0.95f;
    d.eps = 1e-8f;
    d.weight_decay = 0.1f;
    d.grad_clip = 1.0f;
    d.warmup_steps = 10;
    d.total_steps = 1000;
    d.batch = 4;
    d.seq_len = 64;
    d.accum_steps = 1;
    d.seed = 1;
    d.lora_rank = 8;
    d.lora_targets = SM_LORA_ALL;
    return d;
}

sm_status sm_trainer_memory_required(sm_model *h, const sm_trainer_desc *d, size_t *bytes) {
    sm_model *m = api::model_of(h);
    if (!m) return SM_ERR_INVALID_ARGUMENT;
    if (!bytes) return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "bytes is NULL");
    *bytes = 0;
    return create_trainer(m, d, nullptr, bytes);
}

sm_status sm_trainer_create(sm_model *h, const sm_trainer_desc *d, sm_trainer **out) {
    sm_model *m = api::model_of(h);
    if (!m) return SM_ERR_INVALID_ARGUMENT;
    if (!out) return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "out is NULL");
    *out = nullptr;
    return create_trainer(m, d, out, nullptr);
}

} // extern "C"

namespace {

// Plans the trainer; with need_out, only says how many arena bytes it takes.
sm_status create_trainer(sm_model *m, const sm_trainer_desc *d, sm_trainer **out, size_t *need_out) {
    sm_runtime *rt = m->rt;
    const sm_trainer_desc desc = d ? *d : sm_trainer_desc_default();
    if (desc.struct_size != sizeof(sm_trainer_desc))
        return rt->fail(SM_ERR_INVALID_ARGUMENT, "sm_trainer_desc.struct_size is %u, expected %zu", desc.struct_size,
                        sizeof(sm_trainer_desc));
    if (desc.mode != SM_TRAIN_FULL && desc.mode != SM_TRAIN_LORA)
        return rt->fail(SM_ERR_INVALID_ARGUMENT, "mode %d is not a sm_train_mode", static_cast<int>(desc.mode));
    if (desc.recompute != 0 && desc.recompute != 1) return rt->fail(SM_ERR_INVALID_ARGUMENT, "recompute must be 0 or 1");
    if (desc.mode == SM_TRAIN_LORA) return create_lora(m, desc, out, need_out);
    const bool tied = m->w.output.data == m->w.tok_embd.data;
    train::ParamLayout p;
    if (!p.init(m->hp, tied) || !train::weights_match(p, m->w))
        return rt->fail(SM_ERR_UNSUPPORTED, "the model's shape cannot be trained (more than %d layers, or odd head size)",
                        train::ParamLayout::kMaxLayers);
    const train::TrainConfig c = config_of(desc);
    train::TrainerSizes sz;
    Error err;
    if (!train::Trainer::plan(p, c, sz, err)) return rt->fail(err);
    const bool publishes = train::can_publish(m->w);
    const size_t head = align_up(sizeof(sm_trainer), kCacheLine);
    const size_t staging = publishes ? align_up(static_cast<size_t>(p.total()) * sizeof(float), kCacheLine) +
                                           align_up(static_cast<size_t>(p.n_tensors()) * sizeof(float *), kCacheLine)
                                     : 0;
    const size_t plan = align_up(sz.total, kCacheLine); // the staging buffer and pointer table start aligned
    const size_t need = head + plan + staging;
    if (need_out) return *need_out = need, SM_OK;
    void *block = rt->arena.alloc(need);
    if (!block)
        return rt->fail(SM_ERR_BUDGET,
                        "memory budget too small: the trainer needs %zu bytes (parameters, gradients and moments %zu, "
                        "activations %zu, the sessions' second weight buffer %zu), the runtime has %zu free of %zu",
                        need, sz.params + sz.grads + sz.adam_m + sz.adam_v, sz.activations, staging, rt->arena.largest_free(),
                        rt->arena.budget());
    sm_trainer *t = new (block) sm_trainer;
    t->model = m;
    t->block = block;
    m->trainers++; // the model refuses to be destroyed under its trainer
    train::Compute comp{rt->kernels, &rt->par, kern::train_kernels_for(rt->kernels->isa)};
    uint8_t *plan_mem = static_cast<uint8_t *>(block) + head;
    // the initial weights are gathered straight into the parameter array (the plan's first item)
    float *params = reinterpret_cast<float *>(plan_mem);
    if (!c.init_random) train::gather_params(p, m->w, params);
    t->tr.init(p, c, comp, plan_mem, c.init_random ? nullptr : params);
    t->publishes = publishes;
    if (publishes) {
        uint8_t *st = plan_mem + plan;
        t->alt = reinterpret_cast<float **>(st + align_up(static_cast<size_t>(p.total()) * sizeof(float), kCacheLine));
        train::init_staging(p, reinterpret_cast<float *>(st), t->alt);
        train::Trainer::PublishHooks h;
        h.stage = stage;
        h.swap = swap;
        h.user = t;
        t->tr.on_publish(h);
        if (c.init_random) t->tr.publish_now();
    }
    *out = t;
    return SM_OK;
}

} // namespace

extern "C" {

void sm_trainer_destroy(sm_trainer *t) {
    if (!t) return;
    sm_runtime *rt = t->model->rt;
    if (t->data_block) rt->arena.free(t->data_block);
    if (t->adapter) { // the adapter keeps the last published values, in its own buffers
        if (t->swap_pending) lora_flip(t);
        if (t->on_alt) {
            const train::ParamLayout &p = t->tr.layout();
            for (int i = 0; i < p.n_tensors(); i++) {
                const train::TensorSlot s = p.tensor(i);
                memcpy(t->own[i], t->lora_alt + s.offset,
                       sizeof(float) * static_cast<size_t>(s.rows) * static_cast<size_t>(s.cols));
            }
            lora_flip(t);
        }
        t->adapter->training = false;
    }
    // the model's tensors may live in this block's second buffer: give them back
    if (t->swaps % 2) train::unstage(t->tr.layout(), t->model->w, t->alt);
    void *block = t->block;
    t->model->trainers--;
    t->~sm_trainer();
    rt->arena.free(block);
}

sm_status sm_trainer_get_adapter(sm_trainer *t, sm_adapter **out) {
    if (!t) return SM_ERR_INVALID_ARGUMENT;
    if (!out) return fail(t, SM_ERR_INVALID_ARGUMENT, "out is NULL");
    *out = nullptr;
    if (!t->adapter) return fail(t, SM_ERR_STATE, "the trainer is not in SM_TRAIN_LORA mode");
    *out = t->adapter->handle;
    return SM_OK;
}

sm_status sm_trainer_get_info(const sm_trainer *t, sm_trainer_info *out) {
    if (!t) return SM_ERR_INVALID_ARGUMENT;
    if (!out) return t->model->rt->fail(SM_ERR_INVALID_ARGUMENT, "out is NULL");
    const train::TrainerSizes &s = t->tr.sizes();
    memset(out, 0, sizeof *out);
    out->n_params = t->tr.layout().total();
    out->param_bytes = s.params + s.grads + s.adam_m + s.adam_v;
    out->activation_bytes = s.activations;
    out->data_bytes = t->data_bytes;
    out->total_bytes = align_up(sizeof(sm_trainer), kCacheLine) + align_up(s.total, kCacheLine) + t->data_bytes +
                       (t->publishes ? align_up(static_cast<size_t>(t->tr.layout().total()) * sizeof(float), kCacheLine) +
                                           align_up(static_cast<size_t>(t->tr.layout().n_tensors()) * sizeof(float *), kCacheLine)
                                     : 0);
    out->train_sequences = t->tr.n_train_sequences();
    out->heldout_sequences = t->n_heldout;
    out->publishes = t->publishes;
    return SM_OK;
}

sm_status sm_trainer_set_tokens(sm_trainer *t, const int32_t *tokens, size_t n, float heldout) {
    if (!t) return SM_ERR_INVALID_ARGUMENT;
    sm_runtime *rt = t->model->rt;
    if (!tokens && n) return rt->fail(SM_ERR_INVALID_ARGUMENT, "tokens is NULL");
    if (!(heldout >= 0.0f && heldout < 1.0f)) return rt->fail(SM_ERR_INVALID_ARGUMENT, "heldout_fraction must be in [0, 1)");
    if (!t->tr.at_boundary()) return rt->fail(SM_ERR_STATE, "an optimizer step is in progress");
    const int32_t V = t->model->hp.n_vocab;
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= V)
            return rt->fail(SM_ERR_INVALID_ARGUMENT, "token %d at index %zu is outside the vocabulary of %d", tokens[i], i, V);
    int32_t *dst;
    SM_TRY(take_data(t, n, heldout, &dst));
    memcpy(dst, tokens, n * sizeof(int32_t));
    bind_data(t, n);
    return SM_OK;
}

sm_status sm_trainer_set_text(sm_trainer *t, const char *text, size_t len, float heldout) {
    if (!t) return SM_ERR_INVALID_ARGUMENT;
    sm_model *m = t->model;
    sm_runtime *rt = m->rt;
    if (!text && len) return rt->fail(SM_ERR_INVALID_ARGUMENT, "text is NULL");
    if (!m->has_tokenizer) return rt->fail(SM_ERR_STATE, "the model has no tokenizer");
    if (!(heldout >= 0.0f && heldout < 1.0f)) return rt->fail(SM_ERR_INVALID_ARGUMENT, "heldout_fraction must be in [0, 1)");
    if (!t->tr.at_boundary()) return rt->fail(SM_ERR_STATE, "an optimizer step is in progress");
    const size_t piece = static_cast<size_t>(m->desc.max_text_bytes);
    // Pieces end at a line end when there is one in the piece's second half.
    auto piece_end = [&](size_t at) {
        size_t end = at + piece < len ? at + piece : len;
        if (end < len) {
            for (size_t e = end; e > at + piece / 2; e--)
                if (text[e - 1] == '\n') return e;
            while (end > at + 1 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) end--; // whole UTF-8 characters
        }
        return end;
    };
    // pass 1 counts, pass 2 fills the data block
    size_t total = 0;
    for (size_t at = 0; at < len;) {
        const size_t end = piece_end(at);
        size_t k = 0;
        const sm_status st = sm_tokenize(m->handle, text + at, end - at, at == 0 ? SM_TOKENIZE_ADD_BOS : 0, nullptr, 0, &k);
        if (st != SM_OK && st != SM_ERR_CAPACITY) return st;
        total += k;
        at = end;
    }
    int32_t *dst;
    SM_TRY(take_data(t, total, heldout, &dst));
    size_t filled = 0;
    for (size_t at = 0; at < len;) {
        const size_t end = piece_end(at);
        size_t k = 0;
        SM_TRY(sm_tokenize(m->handle, text + at, end - at, at == 0 ? SM_TOKENIZE_ADD_BOS : 0, dst + filled, total - filled, &k));
        filled += k;
        at = end;
    }
    bind_data(t, filled);
    return SM_OK;
}

sm_status sm_trainer_step(sm_trainer *t, uint32_t budget_us, sm_train_result *out) {
    if (!t) return SM_ERR_INVALID_ARGUMENT;
    if (!out) return fail(t, SM_ERR_INVALID_ARGUMENT, "out is NULL");
    if (!t->tr.has_data()) return fail(t, SM_ERR_STATE, "no training data: call sm_trainer_set_tokens or sm_trainer_set_text");
    const uint64_t t0 = now_us();
    if (t->swap_pending && !forward_in_flight(t->model)) lora_flip(t);
    train::TrainStepResult r;
    t->tr.step(budget_us, r);
    if (t->tr.status() != SM_OK)
        return fail(t, SM_ERR_INTERNAL, "a LoRA product failed on shapes checked at creation (a bug: please report)");
    out->step = r.step;
    out->micro_step = r.micro_step;
    out->step_done = r.step_done;
    out->loss = r.loss;
    out->lr = r.lr;
    out->grad_norm = r.grad_norm;
    out->tok_s = r.tok_s;
    out->units = r.units;
    out->elapsed_us = now_us() - t0;
    return SM_OK;
}

sm_status sm_trainer_eval(sm_trainer *t, int32_t max_sequences, float *loss) {
    if (!t) return SM_ERR_INVALID_ARGUMENT;
    if (!loss) return fail(t, SM_ERR_INVALID_ARGUMENT, "loss is NULL");
    if (!t->tr.has_data()) return fail(t, SM_ERR_STATE, "no data");
    if (t->n_heldout == 0) return fail(t, SM_ERR_STATE, "no held-out sequences (heldout_fraction was 0)");
    *loss = static_cast<float>(t->tr.eval(max_sequences));
    return SM_OK;
}

sm_status sm_trainer_save(sm_trainer *t, void *buf, size_t cap, size_t *size) {
    if (!t) return SM_ERR_INVALID_ARGUMENT;
    if (!size) return fail(t, SM_ERR_INVALID_ARGUMENT, "size is NULL");
    if (!t->tr.at_boundary()) {
        train::TrainStepResult r;
        t->tr.step(0, r);
    }
    *size = t->tr.checkpoint_bytes();
    if (!buf) return SM_OK;
    if (cap < *size) return t->model->rt->fail(SM_ERR_CAPACITY, "the checkpoint needs %zu bytes, the buffer has %zu", *size, cap);
    t->tr.save_checkpoint(static_cast<uint8_t *>(buf));
    return SM_OK;
}

sm_status sm_trainer_load(sm_trainer *t, const void *buf, size_t size) {
    if (!t) return SM_ERR_INVALID_ARGUMENT;
    if (!buf) return fail(t, SM_ERR_INVALID_ARGUMENT, "buf is NULL");
    if (!t->tr.load_checkpoint(static_cast<const uint8_t *>(buf), size))
        return fail(t, SM_ERR_MISMATCH, "the checkpoint belongs to another model shape, trainer desc or data set");
    return SM_OK;
}

sm_status sm_trainer_gradient(sm_trainer *t, const int32_t *tokens, size_t n, float *loss) {
    if (!t) return SM_ERR_INVALID_ARGUMENT;
    sm_runtime *rt = t->model->rt;
    const train::TrainConfig &c = t->tr.config();
    if (!tokens || !loss) return rt->fail(SM_ERR_INVALID_ARGUMENT, "tokens or loss is NULL");
    if (c.batch != 1 || n != static_cast<size_t>(c.seq_len) + 1)
        return rt->fail(SM_ERR_INVALID_ARGUMENT, "the trainer takes batch 1 of %d + 1 tokens here; got %zu tokens (batch %d)",
                        c.seq_len, n, c.batch);
    if (!t->tr.at_boundary()) return rt->fail(SM_ERR_STATE, "an optimizer step is in progress");
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= t->model->hp.n_vocab)
            return rt->fail(SM_ERR_INVALID_ARGUMENT, "token %d at index %zu is outside the vocabulary of %d", tokens[i], i,
                            t->model->hp.n_vocab);
    *loss = static_cast<float>(t->tr.gradient(tokens, tokens + 1));
    return SM_OK;
}

sm_status sm_trainer_save_gguf(sm_trainer *t, sm_trainer_tensors what, const char *vocab_from, const char *path) {
    if (!t) return SM_ERR_INVALID_ARGUMENT;
    sm_runtime *rt = t->model->rt;
    if (!path) return rt->fail(SM_ERR_INVALID_ARGUMENT, "path is NULL");
    if (what != SM_TRAINER_WEIGHTS && what != SM_TRAINER_GRADIENTS)
        return rt->fail(SM_ERR_INVALID_ARGUMENT, "what is not a sm_trainer_tensors value");
    if (what == SM_TRAINER_WEIGHTS && !t->tr.at_boundary()) {
        train::TrainStepResult r;
        t->tr.step(0, r);
    }
    Error err;
    if (t->adapter) { // a LoRA adapter file of the values or the gradient
        try {
            const train::ParamLayout &p = t->tr.layout();
            const float *src = what == SM_TRAINER_WEIGHTS ? t->tr.params() : t->tr.grads();
            std::vector<lora::PairValues> pairs;
            for (int i = 0; i < p.n_tensors(); i += 2) { // A then B of each pair
                const train::TensorSlot a = p.tensor(i), b = p.tensor(i + 1);
                lora::PairValues pv;
                pv.layer = a.layer, pv.target = a.target, pv.rank = a.rows, pv.n_in = a.cols, pv.n_out = b.rows;
                pv.a = src + a.offset, pv.b = src + b.offset;
                pairs.push_back(pv);
            }
            if (lora::write_adapter_file(path, t->model->hp.arch, t->adapter->values.alpha, pairs, TensorType::F32, err) != SM_OK)
                return rt->fail(err);
            return SM_OK;
        } catch (const std::bad_alloc &) {
            return rt->fail(SM_ERR_BUDGET, "out of heap memory while writing '%s'", path);
        }
    }
    try {
        Hparams hp = t->model->hp;
        if (!hp.name[0]) snprintf(hp.name, sizeof hp.name, "smallmind-trained");
        if (hp.n_ctx_train <= 0) hp.n_ctx_train = t->tr.config().seq_len;
        gguf::Writer w;
        write_llama_metadata(w, hp, 0);
        FileMap vmap;
        gguf::File vf;
        if (vocab_from) {
            if (vmap.open(vocab_from, err) != SM_OK) return rt->fail(err);
            if (gguf::parse(vmap.data(), vmap.size(), vf, err) != SM_OK) {
                err.wrap("%s", vocab_from);
                return rt->fail(err);
            }
            copy_vocab_keys(w, vf);
        }
        const train::ParamLayout &p = t->tr.layout();
        const float *src = what == SM_TRAINER_WEIGHTS ? t->tr.params() : t->tr.grads();
        for (int i = 0; i < p.n_tensors(); i++) {
            const train::TensorSlot s = p.tensor(i);
            std::vector<int64_t> ne = {s.cols};
            if (s.rows > 1) ne.push_back(s.rows);
            const float *data = src + s.offset;
            w.add_tensor(s.name, TensorType::F32, ne, [data](uint8_t *dst, size_t bytes) { memcpy(dst, data, bytes); });
        }
        if (w.write(path, err) != SM_OK) return rt->fail(err);
        return SM_OK;
    } catch (const std::bad_alloc &) {
        return rt->fail(SM_ERR_BUDGET, "out of heap memory while writing '%s'", path);
    }
}

} // extern "C"
