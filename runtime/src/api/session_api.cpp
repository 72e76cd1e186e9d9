// sm_session_*: slots of the model's pool; stepping goes through the model's scheduler.
#include "api/handles.h"
#include "core/clock.h"
#include "core/futex.h"

#include <cstring>

using namespace sm;

namespace {

bool async_running(const sm_model *m) { return m->worker_run.load(std::memory_order_acquire); }

void wake_worker(sm_model *m) {
    if (!async_running(m)) return;
    m->worker_wake.fetch_add(1, std::memory_order_acq_rel);
    futex_wake_all(&m->worker_wake);
}

} // namespace

extern "C" {

sm_session_desc sm_session_desc_default(void) {
    sm_session_desc d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.sampler.temperature = 0.8f;
    d.sampler.top_k = 40;
    d.sampler.top_p = 0.95f;
    d.sampler.min_p = 0.05f;
    d.sampler.repeat_penalty = 1.0f;
    d.sampler.penalty_window = 64;
    d.sampler.seed = 42;
    d.max_tokens = 0;
    d.stop_at_eos = 1;
    return d;
}

sm_status sm_session_create(sm_model *h, const sm_session_desc *desc, sm_session **out) {
    sm_model *m = api::model_of(h);
    if (!m) return SM_ERR_INVALID_ARGUMENT;
    if (!out) return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "out is NULL");
    *out = nullptr;
    if (desc && desc->struct_size != sizeof(sm_session_desc))
        return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "sm_session_desc.struct_size does not match this header");
    sm_session *s = nullptr;
    int i = 0;
    for (; i < m->desc.max_sessions; i++)
        if (!m->slots[i].in_use) {
            s = &m->slots[i];
            break;
        }
    if (!s)
        return m->rt->fail(SM_ERR_CAPACITY, "all %d session slots are in use (raise sm_model_desc.max_sessions)",
                           m->desc.max_sessions);
    const sm_session_desc d = desc ? *desc : sm_session_desc_default();
    const api::AsyncPause pause(m); // the slot joins the worker's sessions between units
    Error err;
    if (s->configure(d, err) != SM_OK) return m->rt->fail(err);
    sm_session *handle = static_cast<sm_session *>(m->rt->handles.issue(api::Kind::Session, s));
    if (!handle)
        return m->rt->fail(SM_ERR_CAPACITY, "the runtime has %d live models and sessions, its most",
                           api::HandleTable::kMaxHandles);
    s->reset();
    s->in_use = true;
    s->handle = handle;
    m->slot_ptrs[i] = s;
    *out = handle;
    return SM_OK;
}

sm_status sm_session_destroy(sm_session *h) {
    if (!h) return SM_OK;
    sm_session *s = api::session_of(h);
    if (!s) return SM_ERR_INVALID_ARGUMENT;
    sm_model *m = s->model;
    const api::AsyncPause pause(m); // the other sessions go on once the slot is out
    // A forward in flight may still hold this slot's rows: finish it first.
    if (s->in_flight) m->sched.drain();
    m->slot_ptrs[s->slot] = nullptr;
    m->rt->handles.revoke(h);
    s->in_use = false;
    s->handle = nullptr;
    s->reset();
    return SM_OK;
}

sm_status sm_session_submit_tokens(sm_session *h, const int32_t *tokens, size_t n) {
    sm_session *s = api::session_of(h);
    if (!s) return SM_ERR_INVALID_ARGUMENT;
    if (!tokens && n) return s->model->rt->fail(SM_ERR_INVALID_ARGUMENT, "tokens is NULL");
    Error err;
    if (s->submit(tokens, n, err) != SM_OK) return s->model->rt->fail(err);
    wake_worker(s->model);
    return SM_OK;
}

sm_status sm_session_submit_text(sm_session *h, const char *utf8, size_t len) {
    sm_session *s = api::session_of(h);
    if (!s) return SM_ERR_INVALID_ARGUMENT;
    sm_model *m = s->model;
    if (!utf8 && len) return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "text is NULL");
    if (!m->has_tokenizer) return m->rt->fail(SM_ERR_STATE, "the model has no tokenizer; submit tokens");
    const uint32_t flags = s->host_submitted == 0 && m->tok.add_bos() ? static_cast<uint32_t>(text::kAddBos) : 0u;
    size_t n = 0;
    Error err;
    if (len > static_cast<size_t>(m->desc.max_text_bytes)) {
        err.set(SM_ERR_CAPACITY, "text of %zu bytes exceeds sm_model_desc.max_text_bytes (%d)", len, m->desc.max_text_bytes);
        return m->rt->fail(err);
    }
    Bump scratch = Bump::over(m->tok_scratch, m->tok_scratch_bytes);
    if (m->tok.encode(std::string_view(utf8 ? utf8 : "", len), flags, m->token_buf, m->token_buf_cap, &n, scratch, err) != SM_OK)
        return m->rt->fail(err);
    if (s->submit(m->token_buf, n, err) != SM_OK) return m->rt->fail(err);
    wake_worker(m);
    return SM_OK;
}

sm_status sm_session_reset(sm_session *h) {
    sm_session *s = api::session_of(h);
    if (!s) return SM_ERR_INVALID_ARGUMENT;
    const api::AsyncPause pause(s->model);
    if (s->in_flight) s->model->sched.drain(); // its rows leave the forward first; the others' stay
    s->reset();
    return SM_OK;
}

sm_status sm_session_cancel(sm_session *h) {
    sm_session *s = api::session_of(h);
    if (!s) return SM_ERR_INVALID_ARGUMENT;
    s->cancel.store(true, std::memory_order_release);
    wake_worker(s->model);
    return SM_OK;
}

sm_status sm_session_step(sm_session *h, uint32_t budget_us, sm_step_result *out) {
    sm_session *s = api::session_of(h);
    if (!s) return SM_ERR_INVALID_ARGUMENT;
    sm_model *m = s->model;
    if (!out) return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "out is NULL");
    if (async_running(m)) return m->rt->fail(SM_ERR_STATE, "the async worker is running this model; use sm_session_poll");
    const Clock &clock = m->sched.clock();
    const uint64_t t0 = clock.ns();
    const uint64_t deadline = budget_us ? t0 + static_cast<uint64_t>(budget_us) * 1000 : 0;
    const int units = m->sched.step(deadline, budget_us ? nullptr : s);
    s->poll(out);
    out->units = static_cast<uint32_t>(units);
    out->elapsed_us = (clock.ns() - t0) / 1000;
    return SM_OK;
}

sm_status sm_session_poll(sm_session *h, sm_step_result *out) {
    sm_session *s = api::session_of(h);
    if (!s) return SM_ERR_INVALID_ARGUMENT;
    if (!out) return s->model->rt->fail(SM_ERR_INVALID_ARGUMENT, "out is NULL");
    s->poll(out);
    out->units = 0;
    out->elapsed_us = 0;
    return SM_OK;
}

sm_status sm_session_eval(sm_session *h, const int32_t *tokens, size_t n, float *logits, size_t logits_cap) {
    sm_session *s = api::session_of(h);
    if (!s) return SM_ERR_INVALID_ARGUMENT;
    sm_model *m = s->model;
    if (!tokens && n) return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "tokens is NULL");
    if (async_running(m)) return m->rt->fail(SM_ERR_STATE, "stop the async worker before sm_session_eval");
    const size_t V = static_cast<size_t>(m->hp.n_vocab);
    if (logits && n > 1 && !m->desc.all_logits)
        return m->rt->fail(SM_ERR_STATE, "logits for every token need the model loaded with sm_model_desc.all_logits = 1");
    if (logits && logits_cap < n * V)
        return m->rt->fail(SM_ERR_CAPACITY, "logits buffer holds %zu floats, %zu tokens need %zu", logits_cap, n, n * V);
    s->eval = true;
    s->eval_all = m->desc.all_logits != 0 && logits;
    s->eval_out = logits;
    s->eval_rows = 0;
    s->eval_rows_cap = logits ? n : 0;
    Error err;
    sm_status st = SM_OK;
    for (size_t done = 0; done < n && st == SM_OK;) {
        size_t chunk = n - done;
        const size_t room = static_cast<size_t>(s->lim.pending_cap - s->queued.load());
        if (chunk > room) chunk = room;
        if (chunk) st = s->submit(tokens + done, chunk, err);
        done += chunk;
        const int units = m->sched.step(0, s);
        if (!chunk && units == 0) // the queue is full and stays full: its output waits for a poll
            st = err.set(SM_ERR_STATE, "the session's output is full: poll it before sm_session_eval");
    }
    if (logits && n == 1 && !s->eval_all && st == SM_OK) memcpy(logits, s->last_logits, sizeof(float) * V);
    s->eval = s->eval_all = false;
    s->eval_out = nullptr;
    return st == SM_OK ? SM_OK : m->rt->fail(err);
}

sm_status sm_session_logits(const sm_session *h, const float **logits, int32_t *n_vocab) {
    const sm_session *s = api::session_of(h);
    if (!s) return SM_ERR_INVALID_ARGUMENT;
    if (!logits) return s->model->rt->fail(SM_ERR_INVALID_ARGUMENT, "logits is NULL");
    if (async_running(s->model))
        return s->model->rt->fail(SM_ERR_STATE, "the async worker may be writing the logits; stop it first");
    if (!s->has_logits) return s->model->rt->fail(SM_ERR_STATE, "no logits yet: nothing has been evaluated");
    *logits = s->last_logits;
    if (n_vocab) *n_vocab = s->lim.n_vocab;
    return SM_OK;
}

sm_status sm_session_get_info(const sm_session *h, sm_session_info *out) {
    const sm_session *s = api::session_of(h);
    if (!s) return SM_ERR_INVALID_ARGUMENT;
    if (!out) return s->model->rt->fail(SM_ERR_INVALID_ARGUMENT, "out is NULL");
    out->phase = s->host_phase();
    out->n_past = s->out_n_past.load();
    out->n_pending = s->queued.load();
    out->n_generated = s->out_generated.load();
    return SM_OK;
}

sm_status sm_session_save(const sm_session *h, void *buf, size_t cap, size_t *size) {
    const sm_session *s = api::session_of(h);
    if (!s) return SM_ERR_INVALID_ARGUMENT;
    sm_model *m = s->model;
    if (!size) return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "size is NULL");
    // A snapshot: nothing runs while it is taken, and nothing of the session changes (a
    // forward in flight stays in flight; its rows are saved as queued input).
    const api::AsyncPause pause(m);
    const size_t need = s->save(nullptr, 0, m->fingerprint);
    *size = need;
    if (!buf) return SM_OK;
    if (cap < need) return m->rt->fail(SM_ERR_CAPACITY, "buffer of %zu bytes; the session needs %zu", cap, need);
    s->save(static_cast<uint8_t *>(buf), cap, m->fingerprint);
    return SM_OK;
}

sm_status sm_session_load(sm_session *h, const void *buf, size_t size) {
    sm_session *s = api::session_of(h);
    if (!s) return SM_ERR_INVALID_ARGUMENT;
    sm_model *m = s->model;
    if (!buf) return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "buffer is NULL");
    const api::AsyncPause pause(m);
    if (s->in_flight) m->sched.drain();
    Error err;
    if (s->load(static_cast<const uint8_t *>(buf), size, m->fingerprint, err) != SM_OK) {
        s->reset();
        return m->rt->fail(err);
    }
    wake_worker(m);
    return SM_OK;
}

} // extern "C"
