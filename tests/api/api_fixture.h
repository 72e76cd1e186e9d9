// The API tests' model: stories260K from the repository's assets (nothing beside the repository needed),
// and a runtime + model + sessions torn down child first.
#pragma once
#include "smallmind/smallmind.h"
#include "test_support.h"

#include <string>
#include <vector>

namespace apitest {

inline std::string model_path() { return smtest::repo_path("assets/stories260K.gguf"); }

struct World {
    sm_runtime *rt = nullptr;
    sm_model *model = nullptr;
    std::vector<sm_session *> sessions;
    World() = default;
    World(const World &) = delete;
    World &operator=(const World &) = delete;
    ~World() {
        for (sm_session *s : sessions) sm_session_destroy(s);
        sm_model_destroy(model);
        sm_runtime_destroy(rt);
    }
    // A runtime and the model; false when either fails.
    bool load(sm_model_desc md = sm_model_desc_default(), size_t budget = size_t(64) << 20) {
        sm_runtime_desc rd = sm_runtime_desc_default();
        rd.memory_budget = budget;
        if (sm_runtime_create(&rd, &rt) != SM_OK) return false;
        return sm_model_load(rt, model_path().c_str(), nullptr, &md, &model) == SM_OK;
    }
    sm_session *session(const sm_session_desc *sd = nullptr) {
        sm_session *s = nullptr;
        if (sm_session_create(model, sd, &s) != SM_OK) return nullptr;
        sessions.push_back(s);
        return s;
    }
    // Destroys one of this world's sessions (the handle stays in the caller's hands, stale).
    sm_status destroy(sm_session *s) {
        for (size_t i = 0; i < sessions.size(); i++)
            if (sessions[i] == s) sessions.erase(sessions.begin() + static_cast<long>(i));
        return sm_session_destroy(s);
    }
};

// Seeded sampling that never stops by itself before max_tokens.
inline sm_session_desc sampling(uint64_t seed, int max_tokens) {
    sm_session_desc d = sm_session_desc_default();
    d.sampler.temperature = 0.9f;
    d.sampler.top_k = 0;
    d.sampler.top_p = 0.95f;
    d.sampler.min_p = 0.0f;
    d.sampler.seed = seed;
    d.max_tokens = max_tokens;
    d.stop_at_eos = 0;
    return d;
}

} // namespace apitest
