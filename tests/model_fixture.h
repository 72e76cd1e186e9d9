// Loading the stories260K fixtures (tests/data) through the public API, for the runtime tests.
// A missing or malformed fixture fails the test that asked for it, naming the file.
#pragma once
#include "smallmind/smallmind.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace smtest {

struct Stories {
    std::vector<int32_t> ids;  // the 256 greedy ids (line i = token after position i-1)
    std::vector<float> logits; // 256 x 512
    std::string text;          // decoded first 180 ids
    static const Stories &get() {
        static Stories s = load();
        return s;
    }
    // Teacher-forced input: BOS then the first 255 ids.
    std::vector<int32_t> inputs() const {
        std::vector<int32_t> t = {1};
        t.insert(t.end(), ids.begin(), ids.begin() + 255);
        return t;
    }

private:
    // Throws (a failed check) before returning a short fixture: get() then tries again.
    static Stories load() {
        Stories s;
        const auto idb = read_fixture(data_path("stories260K.greedy.ids.txt"));
        std::istringstream in(std::string(idb.begin(), idb.end()));
        for (int x; in >> x;) s.ids.push_back(x);
        if (s.ids.size() != 256) FAIL(data_path("stories260K.greedy.ids.txt") << ": " << s.ids.size() << " ids, want 256");
        const auto b = read_fixture(data_path("stories260K.greedy.logits.f32"));
        if (b.size() != 256 * 512 * 4)
            FAIL(data_path("stories260K.greedy.logits.f32") << ": " << b.size() << " bytes, want 256 x 512 floats");
        s.logits.resize(b.size() / 4);
        memcpy(s.logits.data(), b.data(), b.size());
        const auto t = read_fixture(data_path("stories260K.greedy.txt"));
        s.text.assign(t.begin(), t.end());
        return s;
    }
};

// A runtime + model + session, torn down in order.
struct Loaded {
    sm_runtime *rt = nullptr;
    sm_model *model = nullptr;
    sm_session *session = nullptr;
    sm_status status = SM_OK;
    Loaded() = default;
    Loaded(const Loaded &) = delete;
    ~Loaded() {
        sm_session_destroy(session);
        sm_model_destroy(model);
        sm_runtime_destroy(rt);
    }
};

inline std::string stories_path(const char *kind) {
    if (!strcmp(kind, "bin")) return fixture("stories260K.bin");
    if (!strcmp(kind, "gguf")) return fixture("stories260K.gguf");
    return repo_path("assets/stories260K.gguf");
}

// isa: SM_ISA_AUTO etc. Returns false (status set) if the runtime cannot be made.
inline bool load(Loaded &L, const std::string &path, sm_isa isa, sm_model_desc md, int threads = 1,
                 const sm_session_desc *sd = nullptr, size_t budget = size_t(128) << 20) {
    sm_runtime_desc d = sm_runtime_desc_default();
    d.memory_budget = budget;
    d.isa = isa;
    d.threads = threads;
    L.status = sm_runtime_create(&d, &L.rt);
    if (L.status != SM_OK) return false;
    const bool bin = path.size() > 4 && path.compare(path.size() - 4, 4, ".bin") == 0;
    const std::string tok = bin ? fixture("tok512.bin") : std::string();
    L.status = sm_model_load(L.rt, path.c_str(), bin ? tok.c_str() : nullptr, &md, &L.model);
    if (L.status != SM_OK) return false;
    L.status = sm_session_create(L.model, sd, &L.session);
    return L.status == SM_OK;
}

inline std::vector<sm_isa> isas_here() {
    std::vector<sm_isa> out;
    for (sm_isa i : {SM_ISA_SCALAR, SM_ISA_AVX2, SM_ISA_AVX512, SM_ISA_NEON}) {
        sm_runtime_desc d = sm_runtime_desc_default();
        d.memory_budget = 4096;
        d.isa = i;
        sm_runtime *rt = nullptr;
        if (sm_runtime_create(&d, &rt) == SM_OK) out.push_back(i);
        sm_runtime_destroy(rt);
    }
    return out;
}

inline const char *isa_label(sm_isa i) {
    switch (i) {
    case SM_ISA_SCALAR: return "scalar";
    case SM_ISA_AVX2: return "avx2";
    case SM_ISA_AVX512: return "avx512";
    case SM_ISA_NEON: return "neon";
    default: return "auto";
    }
}

} // namespace smtest
