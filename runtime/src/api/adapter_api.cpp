// sm_adapter_*: LoRA adapters in a model's planned slots, chosen per session.
#include "api/handles.h"
#include "lora/adapter_file.h"
#include "lora/merge.h"
#include "quant/quant.h"

#include <cstdio>
#include <cstring>
#include <new>
#include <vector>

using namespace sm;

namespace {

// Whether a forward pass may be reading adapter values now.
bool forward_in_flight(const sm_model *m) { return m->fwd.busy() || m->worker_run.load(); }

} // namespace

extern "C" {

sm_status sm_adapter_load(sm_model *h, const char *path, sm_adapter **out) {
    sm_model *m = api::model_of(h);
    if (!m) return SM_ERR_INVALID_ARGUMENT;
    sm_runtime *rt = m->rt;
    if (!path || !out) return rt->fail(SM_ERR_INVALID_ARGUMENT, "%s is NULL", path ? "out" : "path");
    *out = nullptr;
    if (m->n_adapter_slots == 0)
        return rt->fail(SM_ERR_CAPACITY, "the model was loaded without adapter slots (set sm_model_desc.max_adapters)");
    sm_adapter *slot = nullptr;
    for (int i = 0; i < m->n_adapter_slots && !slot; i++)
        if (!m->adapters[i].loaded) slot = &m->adapters[i];
    if (!slot)
        return rt->fail(SM_ERR_CAPACITY, "all %d adapter slots are in use (sm_model_desc.max_adapters)", m->n_adapter_slots);
    Error err;
    try {
        lora::AdapterFile f;
        if (lora::open_adapter_file(path, m->hp, f, err) != SM_OK) return rt->fail(err);
        if (f.max_rank > m->desc.max_lora_rank)
            return rt->fail(SM_ERR_CAPACITY, "%s: rank %d exceeds the model's max_lora_rank %d", path, f.max_rank,
                            m->desc.max_lora_rank);
        if (!lora::fill_slot(f, slot->values)) return rt->fail(SM_ERR_FORMAT, "%s: adapter values cannot be read", path);
    } catch (const std::bad_alloc &) {
        return rt->fail(SM_ERR_BUDGET, "out of heap memory while reading '%s'", path);
    }
    slot->handle = static_cast<sm_adapter *>(rt->handles.issue(api::Kind::Adapter, slot));
    if (!slot->handle)
        return rt->fail(SM_ERR_CAPACITY, "the runtime has %d live handles, its most", api::HandleTable::kMaxHandles);
    const char *base = strrchr(path, '/');
    snprintf(slot->name, sizeof slot->name, "%s", base ? base + 1 : path);
    slot->loaded = true;
    *out = slot->handle;
    return SM_OK;
}

sm_status sm_adapter_file_rank(sm_runtime *rt, const char *path, int32_t *rank) {
    if (!rt) return SM_ERR_INVALID_ARGUMENT;
    if (!path || !rank) return rt->fail(SM_ERR_INVALID_ARGUMENT, "%s is NULL", path ? "rank" : "path");
    Error err;
    try {
        if (lora::adapter_file_rank(path, rank, err) != SM_OK) return rt->fail(err);
    } catch (const std::bad_alloc &) {
        return rt->fail(SM_ERR_BUDGET, "out of heap memory while reading '%s'", path);
    }
    return SM_OK;
}

sm_status sm_adapter_unload(sm_adapter *h) {
    sm_adapter *a = api::adapter_of(h);
    if (!a || !a->loaded) return SM_ERR_INVALID_ARGUMENT;
    sm_model *m = a->model;
    if (forward_in_flight(m)) return m->rt->fail(SM_ERR_STATE, "a forward pass is in flight: unload the adapter between steps");
    if (a->training)
        return m->rt->fail(SM_ERR_STATE, "a trainer publishes into adapter '%s': destroy the trainer first", a->name);
    for (int i = 0; i < m->desc.max_sessions; i++) {
        const sm_session &s = m->slots[i];
        for (int u = 0; u < s.n_lora; u++)
            if (s.in_use && s.lora[u].adapter == &a->values)
                return m->rt->fail(SM_ERR_STATE, "adapter '%s' is applied by session %d", a->name, i);
    }
    a->loaded = false;
    m->rt->handles.revoke(h);
    return SM_OK;
}

sm_status sm_session_set_adapters(sm_session *h, sm_adapter *const *adapters, const float *scales, int32_t n) {
    sm_session *s = api::session_of(h);
    if (!s) return SM_ERR_INVALID_ARGUMENT;
    sm_model *m = s->model;
    if (n < 0 || n > SM_MAX_SESSION_ADAPTERS || (n > 0 && !adapters))
        return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "n = %d adapters (0..%d, with a list)", n, SM_MAX_SESSION_ADAPTERS);
    if (m->worker_run.load()) return m->rt->fail(SM_ERR_STATE, "the async worker is running: stop it to change adapters");
    for (int i = 0; i < n; i++) {
        const sm_adapter *a = api::adapter_of(adapters[i]);
        if (!a || a->model != m || !a->loaded)
            return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "adapter %d is NULL, unloaded or of another model", i);
        if (scales && !(scales[i] == scales[i])) return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "scale %d is NaN", i);
    }
    for (int i = 0; i < n; i++) s->lora[i] = lora::Use{&api::adapter_of(adapters[i])->values, scales ? scales[i] : 1.0f};
    s->n_lora = n;
    return SM_OK;
}

sm_status sm_adapter_save(sm_adapter *h, const char *path, const char *type) {
    sm_adapter *a = api::adapter_of(h);
    if (!a || !a->loaded) return SM_ERR_INVALID_ARGUMENT;
    sm_runtime *rt = a->model->rt;
    if (!path) return rt->fail(SM_ERR_INVALID_ARGUMENT, "path is NULL");
    TensorType t = TensorType::F32;
    if (type && !strcmp(type, "f16")) t = TensorType::F16;
    else if (type && !strcmp(type, "q8_0")) t = TensorType::Q8_0;
    else if (type && strcmp(type, "f32") != 0)
        return rt->fail(SM_ERR_INVALID_ARGUMENT, "adapter type '%s': f32, f16 or q8_0", type);
    const Hparams &hp = a->model->hp;
    Error err;
    try {
        // Every pair as floats (16-bit slots widened exactly), then written in `t`.
        std::vector<std::vector<float>> values;
        std::vector<lora::PairValues> pairs;
        for (int l = 0; l < a->values.n_layers; l++)
            for (int ti = 0; ti < lora::kTargets; ti++) {
                const lora::Target tt = static_cast<lora::Target>(ti);
                const lora::Pair &p = a->values.pair(l, tt);
                if (p.rank == 0) continue;
                const lora::Shape sh = lora::target_shape(hp, tt);
                const int64_t na = static_cast<int64_t>(p.rank) * sh.n_in, nb = static_cast<int64_t>(p.rank) * sh.n_out;
                values.emplace_back(static_cast<size_t>(na + nb));
                float *v = values.back().data();
                if (p.type == TensorType::F32) {
                    memcpy(v, p.a, sizeof(float) * static_cast<size_t>(na));
                    memcpy(v + na, p.b, sizeof(float) * static_cast<size_t>(nb));
                } else if (!quant::dequantize_row(p.type, p.a, v, na) || !quant::dequantize_row(p.type, p.b, v + na, nb)) {
                    return rt->fail(SM_ERR_INTERNAL, "adapter '%s': values of an unreadable type", a->name);
                }
                lora::PairValues pv;
                pv.layer = l, pv.target = tt, pv.rank = p.rank, pv.n_in = sh.n_in, pv.n_out = sh.n_out;
                pv.a = v, pv.b = v + na;
                pairs.push_back(pv);
            }
        if (lora::write_adapter_file(path, hp.arch, a->values.alpha, pairs, t, err) != SM_OK) return rt->fail(err);
    } catch (const std::bad_alloc &) {
        return rt->fail(SM_ERR_BUDGET, "out of heap memory writing '%s'", path);
    }
    return SM_OK;
}

sm_status sm_lora_merge(sm_runtime *rt, const char *model_path, const char *const *adapter_paths, const float *scales, int32_t n,
                        const char *out_path, const char *matrix_type) {
    if (!rt) return SM_ERR_INVALID_ARGUMENT;
    if (!model_path || !out_path || n < 0 || (n > 0 && !adapter_paths))
        return rt->fail(SM_ERR_INVALID_ARGUMENT, "model path, output path and the adapter list are required");
    Error err;
    try {
        std::vector<lora::MergeAdapter> list;
        for (int i = 0; i < n; i++) {
            if (!adapter_paths[i]) return rt->fail(SM_ERR_INVALID_ARGUMENT, "adapter path %d is NULL", i);
            list.push_back({adapter_paths[i], scales ? scales[i] : 1.0f});
        }
        TensorType t{};
        const TensorType *tp = nullptr;
        if (matrix_type) {
            bool found = false;
            for (uint32_t id = 0; id < 64 && !found; id++) {
                const TypeTraits &tt = type_traits(id);
                if (tt.name && !strcmp(tt.name, matrix_type)) t = static_cast<TensorType>(id), found = true;
            }
            if (!found) return rt->fail(SM_ERR_INVALID_ARGUMENT, "unknown matrix type '%s'", matrix_type);
            tp = &t;
        }
        if (lora::merge_into_gguf(model_path, list, out_path, tp, err) != SM_OK) return rt->fail(err);
        return SM_OK;
    } catch (const std::bad_alloc &) {
        return rt->fail(SM_ERR_BUDGET, "out of heap memory merging into '%s'", model_path);
    }
}

} // extern "C"
