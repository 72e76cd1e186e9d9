#include "model_host.h"

#include "chat_args.h"
#include "teacher.h"

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
    if (o.teach) { // the trainer's adapter slot, and one for --adapter
        md.max_adapters = o.adapter.empty() ? 1 : 2;
        md.max_lora_rank = Teacher::kRank;
        if (!o.adapter.empty()) {
            sm_runtime_desc tiny = sm_runtime_desc_default();
            tiny.memory_budget = 4096;
            tiny.threads = 0;
            sm_runtime *q = nullptr;
            int32_t rank = 0;
            if (sm_runtime_create(&tiny, &q) != SM_OK) return false;
            const sm_status st = sm_adapter_file_rank(q, o.adapter.c_str(), &rank);
            if (st != SM_OK) {
                print_error(q, st, "cannot read adapter", o.adapter.c_str());
                sm_runtime_destroy(q);
                return false;
            }
            sm_runtime_destroy(q);
            md.max_lora_rank = rank > md.max_lora_rank ? rank : md.max_lora_rank;
        }
    }

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
    if (o.teach) {
        // The trainer's plan depends on the loaded model: load it once in a probe sized for it.
        sm_runtime_desc pd = probe;
        pd.memory_budget = need;
        sm_runtime *q = nullptr;
        sm_model *m = nullptr;
        size_t trainer = 0;
        const sm_trainer_desc td = Teacher::desc();
        st = sm_runtime_create(&pd, &q);
        if (st == SM_OK) st = sm_model_load(q, path, nullptr, &md, &m);
        if (st == SM_OK) st = sm_trainer_memory_required(m, &td, &trainer);
        if (st != SM_OK) {
            print_error(q, st, "cannot plan the trainer for", path);
            sm_model_destroy(m);
            sm_runtime_destroy(q);
            return false;
        }
        sm_model_destroy(m);
        sm_runtime_destroy(q);
        need += trainer + Teacher::data_bytes();
    }

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

    if (!o.adapter.empty()) {
        st = sm_adapter_load(model_, o.adapter.c_str(), &start_adapter_);
        if (st != SM_OK) {
            print_error(rt_, st, "cannot load adapter", o.adapter.c_str());
            return false;
        }
    }
    has_template_ = strcmp(info_.chat_template, "plain") != 0;
    return true;
}
