// sm_model_*: open a file, plan every byte, check the budget, then fill one arena block.
#include "api/handles.h"
#include "core/clock.h"
#include "core/futex.h"

#include <cstdio>
#include <cstring>
#include <new>

using namespace sm;

namespace {

// The desc as given: 0 picks a default where the header names one; anything else out of
// its documented range is an error, never silently replaced.
sm_status check_given(const sm_model_desc &d, Error &err) {
    auto in = [](int32_t v, int32_t lo, int32_t hi) { return v >= lo && v <= hi; };
    if (!in(d.max_sessions, 0, kMaxSegments))
        return err.set(SM_ERR_INVALID_ARGUMENT, "max_sessions %d is not in [1, %d] (0 = default 1)", d.max_sessions,
                       kMaxSegments);
    if (d.n_ctx != 0 && !in(d.n_ctx, 2, 1 << 22))
        return err.set(SM_ERR_INVALID_ARGUMENT, "n_ctx %d is not in [2, 4194304] (0 = the model's, at most 2048)", d.n_ctx);
    if (!in(d.n_sinks, 0, kern::kAttnTile))
        return err.set(SM_ERR_INVALID_ARGUMENT, "n_sinks %d is not in [0, %d]", d.n_sinks, kern::kAttnTile);
    if (!in(d.max_batch, 0, 4096))
        return err.set(SM_ERR_INVALID_ARGUMENT, "max_batch %d is not in [1, 4096] (0 = default 64)", d.max_batch);
    if (!in(d.max_text_bytes, 0, 1 << 28))
        return err.set(SM_ERR_INVALID_ARGUMENT, "max_text_bytes %d is not in [1, 268435456] (0 = default 16384)",
                       d.max_text_bytes);
    if (!in(d.all_logits, 0, 1) || !in(d.async_worker, 0, 1))
        return err.set(SM_ERR_INVALID_ARGUMENT, "all_logits %d / async_worker %d: each is 0 or 1", d.all_logits, d.async_worker);
    if (d.kv_type != SM_KV_F32 && d.kv_type != SM_KV_F16)
        return err.set(SM_ERR_INVALID_ARGUMENT, "kv_type %d is not SM_KV_F32 or SM_KV_F16", static_cast<int>(d.kv_type));
    if (!in(d.max_adapters, 0, 256))
        return err.set(SM_ERR_INVALID_ARGUMENT, "max_adapters %d is not in [0, 256]", d.max_adapters);
    if (d.max_adapters > 0 && !in(d.max_lora_rank, 1, 1024))
        return err.set(SM_ERR_INVALID_ARGUMENT, "max_lora_rank %d is not in [1, 1024]", d.max_lora_rank);
    return SM_OK;
}

sm_model_desc resolve_desc(const sm_model_desc &d, const Hparams &hp) {
    sm_model_desc r = d;
    if (r.n_ctx == 0) r.n_ctx = hp.n_ctx_train < 2048 ? hp.n_ctx_train : 2048;
    if (r.max_batch == 0) r.max_batch = 64;
    if (r.max_sessions == 0) r.max_sessions = 1;
    if (r.max_text_bytes == 0) r.max_text_bytes = 16384;
    return r;
}

// A file too short for any magic is named by what its name says it is.
sm_status check_short_file(const char *path, Error &err) {
    const size_t len = strlen(path);
    if (len < 5 || strcmp(path + len - 5, ".gguf") != 0) return SM_OK;
    FILE *f = fopen(path, "rb");
    if (!f) return SM_OK; // the loader reports it
    unsigned char magic[4];
    const size_t n = fread(magic, 1, 4, f);
    fclose(f);
    if (n < 4) return err.set(SM_ERR_FORMAT, "%s: %zu bytes, too short for a GGUF header", path, n);
    return SM_OK;
}

// 64-bit FNV-1a: a saved session names the model it came from.
uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = static_cast<const uint8_t *>(p);
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

// A model between planning and loading: the opened file, the resolved options, the plan.
struct Prepared {
    ModelFile file;
    sm_model_desc desc{};
    ModelPlan plan;
    uint64_t fingerprint = 0;
    char tokenizer_name[16] = "none";
    text::TokenizerTrial tok_trial; // planning's trial build: the load copies it
};

// Everything but the copying: open, validate, size each part.
sm_status prepare_model(sm_runtime *rt, const char *path, const char *tok_path, const sm_model_desc *d, Prepared &P, Error &err) {
    if (d && d->struct_size != sizeof(sm_model_desc))
        return err.set(SM_ERR_INVALID_ARGUMENT, "sm_model_desc.struct_size is %u, expected %zu", d->struct_size,
                       sizeof(sm_model_desc));
    const sm_model_desc given = d ? *d : sm_model_desc_default();
    SM_TRY(check_given(given, err));
    SM_TRY(check_short_file(path, err));
    SM_TRY(open_model_file(path, tok_path, P.file, err));
    const Hparams &hp = P.file.hp;
    P.desc = resolve_desc(given, hp);
    if (P.desc.n_sinks >= P.desc.n_ctx)
        return err.set(SM_ERR_INVALID_ARGUMENT, "n_sinks %d must be below n_ctx %d", P.desc.n_sinks, P.desc.n_ctx);
    SM_TRY(plan_model(P.file, P.desc, *rt->kernels, HostObjectSizes{sizeof(sm_model), sizeof(sm_session), sizeof(sm_adapter)},
                      path, P.plan, err, &P.tok_trial));
    const text::VocabSource &v = P.file.vocab;
    if (P.plan.has_tokenizer) snprintf(P.tokenizer_name, sizeof P.tokenizer_name, "%.*s", (int)v.model.size(), v.model.data());
    uint64_t fp = 0xcbf29ce484222325ull;
    fp = fnv(fp, &hp, sizeof hp);
    fp = fnv(fp, &P.plan.geo, sizeof P.plan.geo);
    fp = fnv(fp, P.file.tok_embd.data, P.file.tok_embd.bytes < 4096 ? P.file.tok_embd.bytes : 4096);
    fp = fnv(fp, P.file.output_norm.data, P.file.output_norm.bytes);
    P.fingerprint = fp;
    return SM_OK;
}

// The tokenizer's tables and scratch, then submit_text()'s token buffer.
sm_status load_tokenizer(sm_model *m, Prepared &P, Error &err) {
    Bump tables = m->plan.part(m->block, &ModelSizes::tokenizer_tables);
    SM_TRY(m->tok.build(P.file.vocab, tables, err, &P.tok_trial));
    Bump scratch = m->plan.part(m->block, &ModelSizes::tokenizer_scratch);
    m->tok_scratch_bytes = m->plan.tokenize_scratch;
    m->tok_scratch = static_cast<uint8_t *>(scratch.take(m->tok_scratch_bytes));
    m->token_buf_cap = m->plan.token_buf_cap;
    m->token_buf = scratch.take_n<int32_t>(m->token_buf_cap);
    if (scratch.overflowed())
        return err.set(SM_ERR_INTERNAL, "tokenizer scratch exceeds its planned %zu bytes", m->plan.bytes.tokenizer_scratch);
    return SM_OK;
}

// Every session slot: its object, its KV cache and what it lays out.
sm_status load_sessions(sm_model *m, Error &err) {
    const int S = m->desc.max_sessions;
    uint8_t *kv = static_cast<uint8_t *>(m->plan.part(m->block, &ModelSizes::kv_cache).take(m->plan.bytes.kv_cache));
    Bump sb = m->plan.part(m->block, &ModelSizes::sessions);
    sm_session *slots = static_cast<sm_session *>(sb.take(sizeof(sm_session) * static_cast<size_t>(S)));
    for (int i = 0; i < S; i++) {
        sm_session *s = new (&slots[i]) sm_session;
        s->model = m;
        s->slot = i;
        s->geo = &m->geo;
        s->kv.geo = &m->geo;
        s->kv.data = kv + m->geo.bytes() * static_cast<size_t>(i);
        s->tok = m->has_tokenizer ? &m->tok : nullptr;
        s->lim = m->limits;
        s->layout(sb);
        sm_sampler_desc sd = sm_session_desc_default().sampler;
        s->sampler.init(sd, m->hp.n_vocab, sb);
        m->slot_ptrs[i] = nullptr;
    }
    m->slots = slots; // set once all are built: a failed load destroys exactly these
    if (sb.overflowed()) return err.set(SM_ERR_INTERNAL, "sessions exceed their planned %zu bytes", m->plan.bytes.sessions);
    return SM_OK;
}

// Fills the planned block part by part. On failure the caller destroys what was built.
sm_status load_parts(sm_runtime *rt, sm_model *m, Prepared &P, const char *path, Error &err) {
    const int S = m->desc.max_sessions;
    Bump head = m->plan.part(m->block, &ModelSizes::model);
    head.take(sizeof(sm_model)); // the model object itself, already placed
    m->slot_ptrs = head.take_n<Session *>(static_cast<size_t>(S));
    if (head.overflowed()) return err.set(SM_ERR_INTERNAL, "the model object exceeds its planned %zu bytes", m->plan.bytes.model);

    Bump wb = m->plan.part(m->block, &ModelSizes::weights);
    SM_TRY(bind_weights(P.file, wb, m->w, err, rt->kernels->rows8_types));
    if (m->has_tokenizer && load_tokenizer(m, P, err) != SM_OK) return err.wrap("%s: tokenizer", path);
    Bump fb = m->plan.part(m->block, &ModelSizes::activations);
    m->fwd.init(m->hp, m->w, rt->kernels, &rt->par, m->plan.forward, fb);
    if (fb.overflowed()) return err.set(SM_ERR_INTERNAL, "activations exceed their planned %zu bytes", m->plan.bytes.activations);
    SM_TRY(load_sessions(m, err));
    Bump schb = m->plan.part(m->block, &ModelSizes::scheduler);
    m->sched.init(&m->fwd, &rt->par, m->slot_ptrs, S, m->desc.max_batch, m->plan.forward.max_out_rows, schb);
    if (schb.overflowed())
        return err.set(SM_ERR_INTERNAL, "the scheduler exceeds its planned %zu bytes", m->plan.bytes.scheduler);
    Bump ab = m->plan.part(m->block, &ModelSizes::adapters);
    m->n_adapter_slots = m->desc.max_adapters;
    m->adapters = m->n_adapter_slots ? ab.take_n<sm_adapter>(static_cast<size_t>(m->n_adapter_slots)) : nullptr;
    for (int i = 0; i < m->n_adapter_slots; i++) {
        sm_adapter *a = new (&m->adapters[i]) sm_adapter;
        a->model = m;
        Bump slot = Bump::over(ab.take(m->plan.adapter_slot), m->plan.adapter_slot);
        lora::layout_slot(m->hp, m->desc.max_lora_rank, slot, a->values);
        if (slot.overflowed())
            return err.set(SM_ERR_INTERNAL, "an adapter slot exceeds its planned %zu bytes", m->plan.adapter_slot);
    }
    if (ab.overflowed()) return err.set(SM_ERR_INTERNAL, "adapters exceed their planned %zu bytes", m->plan.bytes.adapters);
    return SM_OK;
}

void worker_main(sm_model *m);

} // namespace

extern "C" {

sm_model_desc sm_model_desc_default(void) {
    sm_model_desc d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.max_sessions = 1;
    d.n_ctx = 0;
    d.n_sinks = 4;
    d.max_batch = 64;
    d.max_text_bytes = 16384;
    d.kv_type = SM_KV_F32;
    d.max_adapters = 0;
    d.max_lora_rank = 16;
    return d;
}

sm_status sm_model_memory_required(sm_runtime *rt, const char *path, const char *tok_path, const sm_model_desc *desc,
                                   size_t *bytes) {
    if (!rt) return SM_ERR_INVALID_ARGUMENT;
    if (!path || !bytes) return rt->fail(SM_ERR_INVALID_ARGUMENT, "path or bytes is NULL");
    Error err;
    try {
        Prepared P;
        sm_status st = prepare_model(rt, path, tok_path, desc, P, err);
        *bytes = st == SM_OK ? P.plan.total() : 0;
        return st == SM_OK ? SM_OK : rt->fail(err);
    } catch (const std::bad_alloc &) {
        return rt->fail(SM_ERR_BUDGET, "out of heap memory while reading '%s'", path);
    }
}

sm_status sm_model_load(sm_runtime *rt, const char *path, const char *tok_path, const sm_model_desc *desc, sm_model **out) {
    if (!rt) return SM_ERR_INVALID_ARGUMENT;
    if (!out || !path) return rt->fail(SM_ERR_INVALID_ARGUMENT, "%s is NULL", out ? "path" : "out");
    *out = nullptr;
    Error err;
    try {
        Prepared P;
        if (prepare_model(rt, path, tok_path, desc, P, err) != SM_OK) return rt->fail(err);
        const size_t need = P.plan.total();
        void *block = rt->arena.alloc(need);
        if (!block) {
            err.set(SM_ERR_BUDGET,
                    "memory budget too small: '%s' needs %zu bytes (weights %zu, kv cache %zu), the runtime has %zu free of %zu "
                    "(raise sm_runtime_desc.memory_budget, or lower n_ctx / max_sessions / max_batch)",
                    path, need, P.plan.bytes.weights, P.plan.bytes.kv_cache, rt->arena.largest_free(), rt->arena.budget());
            return rt->fail(err);
        }
        sm_model *m = new (P.plan.part(block, &ModelSizes::model).take(sizeof(sm_model))) sm_model;
        m->rt = rt;
        m->block = block;
        m->desc = P.desc;
        m->hp = P.file.hp;
        m->has_tokenizer = P.plan.has_tokenizer;
        memcpy(m->tokenizer_name, P.tokenizer_name, sizeof m->tokenizer_name);
        m->geo = P.plan.geo;
        m->limits = P.plan.limits;
        m->plan = P.plan;
        m->fingerprint = P.fingerprint;
        if (load_parts(rt, m, P, path, err) != SM_OK) {
            if (m->slots)
                for (int i = 0; i < m->desc.max_sessions; i++) m->slots[i].~sm_session();
            m->tok.release(); // PCRE2's JIT code lives outside the arena
            m->~sm_model();
            rt->arena.free(block);
            return rt->fail(err);
        }
        m->handle = static_cast<sm_model *>(rt->handles.issue(api::Kind::Model, m));
        if (!m->handle) {
            if (m->has_tokenizer) m->tok.release();
            m->~sm_model();
            rt->arena.free(block);
            return rt->fail(SM_ERR_CAPACITY, "the runtime has %d live models and sessions, its most",
                            api::HandleTable::kMaxHandles);
        }
        m->sched.set_clock(rt->clock);
        if (m->desc.async_worker) m->worker = std::thread(worker_main, m);
        *out = m->handle;
        return SM_OK;
    } catch (const std::bad_alloc &) {
        return rt->fail(SM_ERR_BUDGET, "out of heap memory while reading '%s'", path);
    }
}

sm_status sm_model_destroy(sm_model *h) {
    if (!h) return SM_OK;
    sm_model *m = api::model_of(h);
    if (!m) return SM_ERR_INVALID_ARGUMENT;
    sm_runtime *rt = m->rt;
    int live = 0;
    for (int i = 0; i < m->desc.max_sessions; i++) live += m->slots[i].in_use;
    if (live)
        return rt->fail(SM_ERR_STATE,
                        "sm_model_destroy: %d session%s still open on this model; destroy them first (nothing was freed)", live,
                        live > 1 ? "s are" : " is");
    if (m->trainers)
        return rt->fail(SM_ERR_STATE,
                        "sm_model_destroy: a trainer still trains this model; destroy it first (nothing was freed)");
    for (int i = 0; i < m->n_adapter_slots; i++) // adapters go with their model: their handles turn stale
        if (m->adapters[i].loaded) rt->handles.revoke(m->adapters[i].handle);
    if (m->worker.joinable()) {
        m->worker_quit.store(true);
        m->worker_wake.fetch_add(1);
        futex_wake_all(&m->worker_wake);
        m->worker.join();
    }
    rt->handles.revoke(h);
    void *block = m->block;
    for (int i = 0; i < m->desc.max_sessions; i++) m->slots[i].~sm_session();
    if (m->has_tokenizer) m->tok.release(); // PCRE2's JIT code lives outside the arena
    m->~sm_model();
    rt->arena.free(block);
    return SM_OK;
}

sm_status sm_model_get_info(const sm_model *h, sm_model_info *out) {
    const sm_model *m = api::model_of(h);
    if (!m) return SM_ERR_INVALID_ARGUMENT;
    if (!out) return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "out is NULL");
    memset(out, 0, sizeof *out);
    snprintf(out->architecture, sizeof out->architecture, "%s", m->hp.arch);
    snprintf(out->name, sizeof out->name, "%s", m->hp.name);
    snprintf(out->weight_type, sizeof out->weight_type, "%s", type_name(static_cast<uint32_t>(m->w.main_type)));
    snprintf(out->tokenizer, sizeof out->tokenizer, "%s", m->has_tokenizer ? m->tokenizer_name : "none");
    const Hparams &hp = m->hp;
    out->n_vocab = hp.n_vocab;
    out->dim = hp.dim;
    out->hidden_dim = hp.hidden_dim;
    out->n_layers = hp.n_layers;
    out->n_heads = hp.n_heads;
    out->n_kv_heads = hp.n_kv_heads;
    out->head_dim = hp.head_dim;
    out->n_ctx_train = hp.n_ctx_train;
    out->n_ctx = m->desc.n_ctx;
    out->n_sinks = m->geo.n_sinks;
    out->max_sessions = m->desc.max_sessions;
    out->max_batch = m->desc.max_batch;
    out->rope_theta = hp.rope_theta;
    out->norm_eps = hp.norm_eps;
    out->bos = m->has_tokenizer ? m->tok.bos() : -1;
    out->eos = m->has_tokenizer ? m->tok.eos() : -1;
    out->add_bos = m->has_tokenizer && m->tok.add_bos();
    const char *tmpl = "plain";
    if (m->has_tokenizer) switch (text::detect_chat_template(m->tok.chat_template())) {
        case text::ChatTemplate::ChatML: tmpl = "chatml"; break;
        case text::ChatTemplate::Llama2: tmpl = "llama2"; break;
        case text::ChatTemplate::Zephyr: tmpl = "zephyr"; break;
        case text::ChatTemplate::Llama3: tmpl = "llama3"; break;
        default: break;
        }
    snprintf(out->chat_template, sizeof out->chat_template, "%s", tmpl);
    out->n_params = m->w.n_params;
    out->weight_bytes = m->w.bytes;
    const kern::Matrix &e = m->w.tok_embd;
    const bool tied = m->w.output.data == e.data;
    out->decode_weight_bytes = m->w.bytes - (tied ? 0 : e.row_bytes * static_cast<size_t>(e.rows));
    out->kv_type = m->desc.kv_type;
    out->kv_bytes = m->geo.bytes() * static_cast<size_t>(m->desc.max_sessions);
    out->activation_bytes = m->plan.bytes.activations;
    out->total_bytes = m->plan.total();
    return SM_OK;
}

sm_status sm_model_describe(const sm_model *h, char *buf, size_t cap, size_t *needed) {
    const sm_model *m = api::model_of(h);
    if (!m) return SM_ERR_INVALID_ARGUMENT;
    if (!buf && cap) return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "buf is NULL but cap is %zu", cap);
    char tmp[4096];
    size_t n = 0;
    for (uint32_t t = 0; t < 32; t++)
        if (m->w.type_tensors[t])
            n += static_cast<size_t>(snprintf(tmp + n, sizeof tmp - n, "tensors %-10s %4u tensors, %12zu bytes\n", type_name(t),
                                              m->w.type_tensors[t], m->w.type_bytes[t]));
    m->plan.each_part([&](const char *name, size_t bytes) {
        n += static_cast<size_t>(snprintf(tmp + n, sizeof tmp - n, "%-18s %12zu bytes\n", name, bytes));
    });
    n += static_cast<size_t>(snprintf(tmp + n, sizeof tmp - n, "%-18s %12zu bytes\n", "total", m->plan.total()));
    if (needed) *needed = n + 1;
    if (cap) {
        size_t c = n < cap - 1 ? n : cap - 1;
        memcpy(buf, tmp, c);
        buf[c] = 0;
    }
    return SM_OK;
}

} // extern "C"

// ---------------------------------------------------------------- stepping

namespace {

void worker_main(sm_model *m) {
    uint32_t seen = m->worker_wake.load();
    while (!m->worker_quit.load(std::memory_order_acquire)) {
        if (m->worker_run.load(std::memory_order_acquire)) {
            // Short slices, so stop requests are honoured within about a millisecond.
            m->worker_busy.store(true); // seq_cst: a Dekker handshake with stop_async
            int units = 0;
            if (m->worker_run.load()) units = m->sched.step(m->sched.clock().ns() + 1000000);
            m->worker_busy.store(false, std::memory_order_release);
            if (units > 0) continue;
        }
        const uint32_t now = m->worker_wake.load(std::memory_order_acquire);
        if (now != seen) {
            seen = now;
            continue;
        }
        futex_wait(&m->worker_wake, seen);
    }
}

} // namespace

extern "C" {

sm_status sm_model_step(sm_model *h, uint32_t budget_us, uint32_t *units_done) {
    sm_model *m = api::model_of(h);
    if (!m) return SM_ERR_INVALID_ARGUMENT;
    if (m->worker_run.load()) return m->rt->fail(SM_ERR_STATE, "the async worker is running this model; poll sessions instead");
    const uint64_t deadline = budget_us ? m->sched.clock().ns() + static_cast<uint64_t>(budget_us) * 1000 : 0;
    const int units = m->sched.step(deadline);
    if (units_done) *units_done = static_cast<uint32_t>(units);
    return SM_OK;
}

sm_status sm_model_start_async(sm_model *h) {
    sm_model *m = api::model_of(h);
    if (!m) return SM_ERR_INVALID_ARGUMENT;
    if (!m->worker.joinable()) return m->rt->fail(SM_ERR_STATE, "the model was loaded without sm_model_desc.async_worker");
    api::start_worker(m);
    return SM_OK;
}

sm_status sm_model_stop_async(sm_model *h) {
    sm_model *m = api::model_of(h);
    if (!m) return SM_ERR_INVALID_ARGUMENT;
    api::stop_worker(m);
    return SM_OK;
}

} // extern "C"

namespace sm::api {

void start_worker(sm_model *m) {
    m->worker_run.store(true, std::memory_order_release);
    m->worker_wake.fetch_add(1, std::memory_order_acq_rel);
    futex_wake_all(&m->worker_wake);
}

void stop_worker(sm_model *m) {
    m->worker_run.store(false);
    m->worker_wake.fetch_add(1, std::memory_order_acq_rel);
    futex_wake_all(&m->worker_wake);
    // The worker ends its current slice (about a millisecond plus one unit); afterwards
    // it sees worker_run false and sleeps, and the host owns the sessions again.
    while (m->worker_busy.load()) std::this_thread::yield();
}

AsyncPause::AsyncPause(sm_model *m) : m_(m), was_running_(m->worker_run.load(std::memory_order_acquire)) {
    if (was_running_) stop_worker(m_);
}

AsyncPause::~AsyncPause() {
    if (was_running_) start_worker(m_);
}

} // namespace sm::api
