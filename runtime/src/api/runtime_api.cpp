// sm_runtime_*: the budget's one allocation, the kernels for this CPU, the thread pool.
#include "api/handles.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>

using namespace sm;

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
    if (!desc || !out) return SM_ERR_INVALID_ARGUMENT;
    *out = nullptr;
    if (desc->struct_size != sizeof(sm_runtime_desc) || desc->memory_budget == 0 || desc->threads < 0 ||
        desc->threads > ThreadPool::kMaxThreads + 1)
        return SM_ERR_INVALID_ARGUMENT;
    sm_runtime *rt = new (std::nothrow) sm_runtime;
    if (!rt) return SM_ERR_BUDGET;
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
    if (desc->jobs && desc->jobs->parallel_for) {
        rt->jobs = *desc->jobs;
        rt->par.use_jobs(&rt->jobs);
    } else if (desc->threads > 1) {
        rt->pool.start(desc->threads - 1);
        rt->par.use_pool(&rt->pool);
    }
    *out = rt;
    return SM_OK;
}

void sm_runtime_destroy(sm_runtime *rt) {
    if (!rt) return;
    rt->pool.stop();
    rt->arena.release();
    delete rt;
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
