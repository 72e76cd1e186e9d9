// A loaded model's memory plan: the bytes of every part of its one arena block, by name,
// known before anything is allocated. plan_model() sizes the parts from the opened file
// and the load options; the loader asks the plan for each part by the same name
// (ModelPlan::part), so what is sized and what is laid out cannot drift apart.
#pragma once
#include "core/bump.h"
#include "core/error.h"
#include "format/model_file.h"
#include "infer/forward.h"
#include "infer/kv_cache.h"
#include "kernels/kernels.h"
#include "session/session.h"
#include "smallmind/smallmind.h"

#include <cstddef>

namespace sm {

// Bytes of each part of a model's block.
struct ModelSizes {
    size_t model = 0; // the host's model object and its table of session pointers
    size_t weights = 0;
    size_t tokenizer_tables = 0;
    size_t tokenizer_scratch = 0; // tokenize()'s working memory, then submit_text()'s tokens
    size_t activations = 0;       // the forward pass's buffers
    size_t kv_cache = 0;          // one KvGeometry::bytes() per session slot
    size_t sessions = 0;          // the session objects and what each lays out
    size_t scheduler = 0;
    size_t adapters = 0; // max_adapters LoRA slots, each for ranks up to max_lora_rank
};

// The parts in the order they are laid out, with the names `smallmind info` prints. A
// model without a vocabulary has no tokenizer parts at all.
struct ModelPart {
    const char *name;
    size_t ModelSizes::*bytes;
    bool tokenizer;
};
inline constexpr ModelPart kModelParts[] = {
    {"model", &ModelSizes::model, false},
    {"weights", &ModelSizes::weights, false},
    {"tokenizer tables", &ModelSizes::tokenizer_tables, true},
    {"tokenizer scratch", &ModelSizes::tokenizer_scratch, true},
    {"activations", &ModelSizes::activations, false},
    {"kv cache", &ModelSizes::kv_cache, false},
    {"sessions", &ModelSizes::sessions, false},
    {"scheduler", &ModelSizes::scheduler, false},
    {"adapters", &ModelSizes::adapters, false},
};

// The sizes of the objects the C API wraps around the model and each session (they live
// in the block's "model" and "sessions" parts).
struct HostObjectSizes {
    size_t model = 0;
    size_t session = 0;
    size_t adapter = 0;
};

struct ModelPlan {
    ModelSizes bytes;
    bool has_tokenizer = false;
    // What the parts were sized for; the loader lays them out with the same values.
    KvGeometry geo;
    ForwardDesc forward;
    SessionLimits limits;
    size_t tokenize_scratch = 0; // tokenizer_scratch's first part, in bytes
    size_t token_buf_cap = 0;    // tokenizer_scratch's second part, in int32 tokens
    size_t adapter_slot = 0;     // one adapter's values (lora::slot_bytes)

    // Each part reserves its bytes rounded up to a cache line plus one line of slack, so
    // several aligned takes from one part always fit.
    static size_t span(size_t bytes) { return align_up(bytes, kCacheLine) + kCacheLine; }
    size_t total() const;
    // Part `which` of a block of total() bytes (cache-line aligned), as a Bump over its span.
    Bump part(void *block, size_t ModelSizes::*which) const;
    // f(name, bytes) for each part present, in layout order.
    template <class F> void each_part(F &&f) const {
        for (const ModelPart &p : kModelParts)
            if (has_tokenizer || !p.tokenizer) f(p.name, bytes.*p.bytes);
    }
};

// Sizes every part for `file` loaded with the resolved, validated `desc` on kernel table
// `k`. Fails for a file the runtime cannot run (head size, vocabulary larger than the
// embedding, a tokenizer it cannot build); `path` names the file in messages. With
// tok_trial, the tokenizer's trial build is kept there for the load to copy.
sm_status plan_model(const ModelFile &file, const sm_model_desc &desc, const kern::Kernels &k, HostObjectSizes host,
                     const char *path, ModelPlan &out, Error &err, text::TokenizerTrial *tok_trial = nullptr);

} // namespace sm
