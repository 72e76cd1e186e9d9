// sm_runtime_*: the budget's one allocation, the kernels for this CPU, the thread pool.
#include "api/handles.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>

using namespace sm;

// ---------------------------------------------------------------- handles

namespace sm::api {

namespace {
constexpr int kTagShift = 48; // user-space addresses fit in 48 bits on x86-64 and AArch64
constexpr bool kTagged = sizeof(uintptr_t) == 8;
} // namespace

void *HandleTable::issue(Kind kind, void *obj) {
    for (int i = 0; i < kMaxHandles; i++) {
        const int k = (cursor_ + i) % kMaxHandles;
        HandleRecord &r = recs_[k];
        if (r.kind != Kind::Free) continue;
        cursor_ = (k + 1) % kMaxHandles;
        r.kind = kind;
        r.obj = obj;
        uintptr_t a = reinterpret_cast<uintptr_t>(&r);
        if constexpr (kTagged) a |= static_cast<uintptr_t>(r.gen) << kTagShift;
        return reinterpret_cast<void *>(a);
    }
    return nullptr;
}

void *HandleTable::resolve(const void *handle, Kind kind) {
    if (!handle) return nullptr;
    uintptr_t a = reinterpret_cast<uintptr_t>(handle);
    uint16_t tag = 0;
    if constexpr (kTagged) {
        tag = static_cast<uint16_t>(a >> kTagShift);
        a &= (uintptr_t(1) << kTagShift) - 1;
    }
    const HandleRecord *r = reinterpret_cast<const HandleRecord *>(a);
    if (r->kind != kind || (kTagged && r->gen != tag)) return nullptr;
    return r->obj;
}

void HandleTable::revoke(const void *handle) {
    uintptr_t a = reinterpret_cast<uintptr_t>(handle);
    if constexpr (kTagged) a &= (uintptr_t(1) << kTagShift) - 1;
    HandleRecord *r = reinterpret_cast<HandleRecord *>(a);
    r->kind = Kind::Free;
    r->obj = nullptr;
    r->gen = static_cast<uint16_t>(r->gen + 1);
}

int HandleTable::live(Kind kind) const {
    int n = 0;
    for (const HandleRecord &r : recs_) n += r.kind == kind;
    return n;
}

void set_clock(sm_runtime *rt, const Clock &clock) {
    rt->clock = clock;
    rt->handles.each(Kind::Model, [&](void *m) { static_cast<sm_model *>(m)->sched.set_clock(clock); });
}

} // namespace sm::api

sm_status sm_runtime::fail(const Error &e) {
    if (&e != &err) {
        err.clear();
        err.set(e.code, "%s", e.message);
    }
    if (log) log(log_user, SM_LOG_ERROR, err.message);
    return err.code;
}

sm_status sm_runtime::fail(sm_status code, const char *fmt, ...) {
    err.clear();
    err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.message, sizeof err.message, fmt, ap);
    va_end(ap);
    return fail(err);
}

extern "C" {

sm_runtime_desc sm_runtime_desc_default(void) {
    sm_runtime_desc d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.memory_budget = size_t(256) << 20;
    d.threads = 0;
    d.isa = SM_ISA_AUTO;
    return d;
}

sm_status sm_runtime_create(const sm_runtime_desc *desc, sm_runtime **out) {
    if (!out) return SM_ERR_INVALID_ARGUMENT;
    *out = nullptr;
    if (!desc || desc->struct_size != sizeof(sm_runtime_desc) || desc->memory_budget == 0 || desc->threads < 0 ||
        desc->threads > ThreadPool::kMaxThreads + 1)
        return SM_ERR_INVALID_ARGUMENT;
    // A C host may store any int in the enum; C++ may not load one outside its values, so
    // the range check reads the bytes.
    static_assert(sizeof(sm_isa) == sizeof(int32_t), "sm_isa is an int");
    int32_t isa_value;
    memcpy(&isa_value, &desc->isa, sizeof isa_value);
    if (isa_value < SM_ISA_AUTO || isa_value > SM_ISA_NEON) return SM_ERR_INVALID_ARGUMENT;
    // A host allocator gives and takes back the block; a job system runs tasks on >= 1 thread.
    if (desc->allocator && (!desc->allocator->alloc || !desc->allocator->free)) return SM_ERR_INVALID_ARGUMENT;
    if (desc->jobs && (!desc->jobs->parallel_for || desc->jobs->max_parallelism < 1)) return SM_ERR_INVALID_ARGUMENT;
    sm_runtime *rt = new (std::nothrow) sm_runtime;
    if (!rt) return SM_ERR_BUDGET;
    if (sizeof(uintptr_t) == 8 && (reinterpret_cast<uintptr_t>(rt) >> 48) != 0) { // no room for handle tags
        delete rt;
        return SM_ERR_UNSUPPORTED;
    }
    rt->log = desc->log;
    rt->log_user = desc->log_user;
    rt->cpu = detect_cpu();
    sm_isa isa = desc->isa == SM_ISA_AUTO ? best_isa(rt->cpu) : desc->isa;
    // A forced ISA the CPU lacks (or that this build lacks) is an error, not a silent
    // fallback: benchmarks and tests must run what they asked for.
    if (!isa_supported(rt->cpu, isa) || !kern::kernels_for(isa)) {
        delete rt;
        return SM_ERR_UNSUPPORTED;
    }
    rt->isa = isa;
    rt->kernels = kern::kernels_for(isa);
    if (!rt->arena.init(desc->memory_budget, desc->allocator)) {
        delete rt;
        return SM_ERR_BUDGET;
    }
    if (desc->jobs) {
        rt->jobs = *desc->jobs;
        rt->par.use_jobs(&rt->jobs);
    } else if (desc->threads > 1) {
        rt->pool.start(desc->threads - 1);
        rt->par.use_pool(&rt->pool);
    }
    *out = rt;
    return SM_OK;
}

sm_status sm_runtime_destroy(sm_runtime *rt) {
    if (!rt) return SM_OK;
    if (const int n = rt->handles.live(api::Kind::Model))
        return rt->fail(SM_ERR_STATE, "sm_runtime_destroy: %d model%s still loaded; destroy them first (nothing was freed)", n,
                        n > 1 ? "s are" : " is");
    rt->pool.stop();
    rt->arena.release();
    delete rt;
    return SM_OK;
}

const char *sm_last_error(const sm_runtime *rt) {
    if (!rt) return "runtime handle is NULL";
    return rt->err.code == SM_OK ? "" : rt->err.message;
}

const char *sm_runtime_isa(const sm_runtime *rt) { return rt ? rt->kernels->name : "none"; }

sm_status sm_runtime_memory(const sm_runtime *rt, sm_memory_stats *out) {
    if (!rt || !out) return SM_ERR_INVALID_ARGUMENT;
    out->budget = rt->arena.budget();
    out->used = rt->arena.used();
    out->peak = rt->arena.peak();
    return SM_OK;
}

} // extern "C"
