// The objects behind the C handles. The runtime is the only heap object (it owns the
// arena); a model, with everything it plans (weights, tokenizer, activations, KV slots,
// sessions), lives in one arena block; sessions are slots inside it.
#pragma once
#include "core/arena.h"
#include "core/cpu.h"
#include "core/error.h"
#include "core/parallel.h"
#include "format/model_file.h"
#include "infer/forward.h"
#include "kernels/kernels.h"
#include "model/model_plan.h"
#include "model/weights.h"
#include "session/scheduler.h"
#include "session/session.h"
#include "text/tokenizer.h"
#include "smallmind/smallmind.h"

#include <atomic>
#include <thread>

struct sm_runtime {
    sm::Arena arena;
    sm::ThreadPool pool;
    sm::Parallel par;
    sm::CpuFeatures cpu;
    sm_isa isa = SM_ISA_SCALAR;
    const sm::kern::Kernels *kernels = nullptr;
    sm_job_system jobs{};
    sm_log_fn log = nullptr;
    void *log_user = nullptr;
    sm::Error err; // the last failure's message

    sm_status fail(const sm::Error &e); // records e as the last error
    sm_status fail(sm_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
};

// A LoRA adapter slot of a model (api/adapter_api.cpp): free until sm_adapter_load fills it.
struct sm_adapter {
    sm_model *model = nullptr;
    sm::lora::Adapter values;
    bool loaded = false;
    char name[64] = "";
};

struct sm_session : sm::Session {
    sm_model *model = nullptr;
    bool in_use = false;
};

struct sm_model {
    sm_runtime *rt = nullptr;
    sm_model_desc desc{};
    sm::Hparams hp;
    sm::Weights w;
    sm::text::Tokenizer tok;
    bool has_tokenizer = false;
    char tokenizer_name[16] = "none";
    sm::KvGeometry geo;
    sm::Forward fwd;
    sm::Scheduler sched;
    sm::SessionLimits limits;
    sm_session *slots = nullptr;        // max_sessions of them
    sm::Session **slot_ptrs = nullptr;  // the scheduler's view (null when free)
    uint8_t *tok_scratch = nullptr;     // tokenize()'s working memory
    size_t tok_scratch_bytes = 0;
    int32_t *token_buf = nullptr;       // submit_text()'s tokens
    size_t token_buf_cap = 0;
    sm::ModelPlan plan;                 // every part of `block`, by name
    uint64_t fingerprint = 0;           // identifies the model in saved sessions
    sm_adapter *adapters = nullptr;     // max_adapters slots
    int n_adapter_slots = 0;
    void *block = nullptr;              // the arena block everything above lives in

    // async worker
    std::thread worker;
    std::atomic<bool> worker_quit{false}, worker_run{false}, worker_busy{false};
    std::atomic<uint32_t> worker_wake{0};
};
