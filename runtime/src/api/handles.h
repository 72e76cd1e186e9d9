// The objects behind the C handles. The runtime is the only heap object (it owns the
// arena); a model, with everything it plans (weights, tokenizer, activations, KV slots,
// sessions), lives in one arena block; sessions are slots inside it.
//
// Model and session handles are not the objects' addresses: each is a record of the
// runtime's handle table, with the record's generation in the pointer's top 16 bits
// (a 64-bit address space uses 48). Destroying an object bumps its record's generation,
// so a stale handle, even one whose record now names a new object, resolves to nullptr
// and every entry point answers SM_ERR_INVALID_ARGUMENT instead of using freed memory.
// Every public function resolves its handles first (model_of, session_of).
#pragma once
#include "core/arena.h"
#include "core/clock.h"
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

namespace sm::api {

enum class Kind : uint8_t { Free = 0, Model = 1, Session = 2, Adapter = 3 };

struct HandleRecord {
    uint16_t gen = 1;
    Kind kind = Kind::Free;
    void *obj = nullptr;
};

class HandleTable {
public:
    static constexpr int kMaxHandles = 1024; // models and sessions of one runtime
    // A handle for obj; nullptr when the table is full.
    void *issue(Kind kind, void *obj);
    // Retires a handle (its record's generation moves on).
    void revoke(const void *handle);
    int live(Kind kind) const;
    template <class F> void each(Kind kind, const F &f) const {
        for (const HandleRecord &r : recs_)
            if (r.kind == kind) f(r.obj);
    }
    // The object of a live handle of this kind; nullptr for NULL, stale or wrong-kind handles.
    static void *resolve(const void *handle, Kind kind);

private:
    HandleRecord recs_[kMaxHandles];
    int cursor_ = 0; // records are issued round-robin, so a freed one is reused last
};

} // namespace sm::api

struct sm_runtime {
    sm::api::HandleTable handles;
    sm::Clock clock; // the steps' budget clock (tests inject a fake one)
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
    sm_adapter *handle = nullptr; // the handle given out while loaded
    sm::lora::Adapter values;
    bool loaded = false;
    bool training = false; // a LoRA trainer publishes into it: not unloaded meanwhile
    char name[64] = "";
};

struct sm_session : sm::Session {
    sm_model *model = nullptr;
    bool in_use = false;
    sm_session *handle = nullptr; // the handle given out for this slot
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
    sm_session *slots = nullptr;       // max_sessions of them
    sm::Session **slot_ptrs = nullptr; // the scheduler's view (null when free)
    uint8_t *tok_scratch = nullptr;    // tokenize()'s working memory
    size_t tok_scratch_bytes = 0;
    int32_t *token_buf = nullptr; // submit_text()'s tokens
    size_t token_buf_cap = 0;
    sm::ModelPlan plan;             // every part of `block`, by name
    uint64_t fingerprint = 0;       // identifies the model in saved sessions
    sm_adapter *adapters = nullptr; // max_adapters slots
    int trainers = 0;               // trainers reading and writing the weights
    int n_adapter_slots = 0;
    void *block = nullptr;      // the arena block everything above lives in
    sm_model *handle = nullptr; // the handle given out for this model

    // async worker
    std::thread worker;
    std::atomic<bool> worker_quit{false}, worker_run{false}, worker_busy{false};
    std::atomic<uint32_t> worker_wake{0};
};

namespace sm::api {

inline sm_model *model_of(const sm_model *h) { return static_cast<sm_model *>(HandleTable::resolve(h, Kind::Model)); }
inline sm_session *session_of(const sm_session *h) { return static_cast<sm_session *>(HandleTable::resolve(h, Kind::Session)); }
inline sm_adapter *adapter_of(const sm_adapter *h) { return static_cast<sm_adapter *>(HandleTable::resolve(h, Kind::Adapter)); }

// The async worker paused for the scope (when it runs): the host owns every session
// while the scope lasts, and the worker goes on afterwards.
class AsyncPause {
public:
    explicit AsyncPause(sm_model *m);
    ~AsyncPause();
    AsyncPause(const AsyncPause &) = delete;
    AsyncPause &operator=(const AsyncPause &) = delete;

private:
    sm_model *m_;
    bool was_running_;
};

// The async worker's controls (the public start / stop call these).
void start_worker(sm_model *m);
void stop_worker(sm_model *m); // returns once the worker is between units

// Test hook: the clock the runtime's steps measure their budgets on.
void set_clock(sm_runtime *rt, const Clock &clock);

} // namespace sm::api
