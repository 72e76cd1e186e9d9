// Owns the SmallMind runtime, model and the one session the demo talks to. The memory
// budget is asked for, not guessed: sm_model_memory_required on a probe runtime (and, for
// teach mode, sm_trainer_memory_required on the model loaded there), then a runtime of
// exactly that many bytes (the way a game would size its LLM arena).
#pragma once
#include "smallmind/smallmind.h"

#include <cstdint>

struct ChatOptions;

class ModelHost {
public:
    ModelHost() = default;
    ModelHost(const ModelHost &) = delete;
    ModelHost &operator=(const ModelHost &) = delete;
    ~ModelHost();

    // Prints the reason to stderr and returns false on any failure.
    bool load(const ChatOptions &o);

    sm_runtime *runtime() const { return rt_; }
    sm_model *model() const { return model_; }
    sm_session *session() const { return session_; }
    sm_adapter *start_adapter() const { return start_adapter_; } // --adapter, loaded (or null)
    const sm_model_info &info() const { return info_; }
    const char *isa() const { return sm_runtime_isa(rt_); }
    const char *last_error() const { return sm_last_error(rt_); }
    int threads() const { return threads_; }
    int max_text_bytes() const { return max_text_bytes_; } // as planned at load

    // True when sm_chat_format has nothing but the Plain fallback for this model: the
    // header has no template query, so we format a probe message and look for the
    // fallback's shape (the content plus a newline, no role markers).
    bool has_chat_template() const { return has_template_; }

private:
    sm_runtime *rt_ = nullptr;
    sm_model *model_ = nullptr;
    sm_session *session_ = nullptr;
    sm_adapter *start_adapter_ = nullptr;
    sm_model_info info_{};
    int threads_ = 1;
    int max_text_bytes_ = 0;
    bool has_template_ = false;
};
