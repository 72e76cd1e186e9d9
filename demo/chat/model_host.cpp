#include "model_host.h"

#include "chat_args.h"

#include <cstdio>
#include <cstring>

namespace {

void print_error(sm_runtime *rt, sm_status st, const char *what, const char *path) {
    const char *detail = rt ? sm_last_error(rt) : "";
    fprintf(stderr, "error: %s '%s': %s%s%s\n", what, path, sm_status_string(st), *detail ? ": " : "", detail);
}

} // namespace

ModelHost::~ModelHost() {
    sm_session_destroy(session_);
    sm_model_destroy(model_);
    sm_runtime_destroy(rt_);
}

bool ModelHost::load(const ChatOptions &o) {
    const char *path = o.model.c_str();
    sm_model_desc md = sm_model_desc_default();
    md.max_sessions = 1;
    md.n_ctx = o.ctx;
    max_text_bytes_ = md.max_text_bytes;

    // Probe: a runtime too small to hold anything, used only to measure the plan.
    sm_runtime_desc rd = sm_runtime_desc_default();
    rd.threads = o.threads;
    threads_ = o.threads;
    sm_runtime_desc probe = rd;
    probe.memory_budget = 4096;
    probe.threads = 0;
    sm_runtime *p = nullptr;
    sm_status st = sm_runtime_create(&probe, &p);
    if (st != SM_OK) {
        fprintf(stderr, "error: cannot create a SmallMind runtime: %s\n", sm_status_string(st));
        return false;
    }
    size_t need = 0;
    st = sm_model_memory_required(p, path, nullptr, &md, &need);
    if (st != SM_OK) {
        print_error(p, st, "cannot load model", path);
        sm_runtime_destroy(p);
        return false;
    }
    sm_runtime_destroy(p);

    rd.memory_budget = need; // exactly the plan: nothing spare, nothing missing
    st = sm_runtime_create(&rd, &rt_);
    if (st != SM_OK) {
        fprintf(stderr, "error: cannot create a runtime of %zu bytes with %d threads: %s\n", need, o.threads,
                sm_status_string(st));
        return false;
    }
    st = sm_model_load(rt_, path, nullptr, &md, &model_);
    if (st != SM_OK) {
        print_error(rt_, st, "cannot load model", path);
        return false;
    }
    sm_model_get_info(model_, &info_);
    if (strcmp(info_.tokenizer, "none") == 0) {
        fprintf(stderr, "error: model '%s' has no tokenizer; the chat demo needs text\n", path);
        return false;
    }

    sm_session_desc sd = sm_session_desc_default();
    sd.sampler.temperature = o.temperature;
    sd.sampler.seed = o.seed;
    sd.max_tokens = o.max_tokens;
    st = sm_session_create(model_, &sd, &session_);
    if (st != SM_OK) {
        print_error(rt_, st, "cannot create a session on", path);
        return false;
    }

    has_template_ = strcmp(info_.chat_template, "plain") != 0;
    return true;
}
