#include "model/model_plan.h"
#include "lora/adapter.h"
#include "model/weights.h"
#include "session/scheduler.h"
#include "text/tokenizer.h"

#include <vector>

namespace sm {

namespace {

constexpr int kMaxHeadDim = 256;

// Activation buffers depend on the weight types (each type's activation format), so the
// forward pass is measured against the matrices' types and shapes.
size_t activation_bytes(const ModelFile &f, const Weights &measured, const kern::Kernels &k, const ForwardDesc &fd) {
    std::vector<LayerWeights> layers(f.layers.size());
    for (size_t l = 0; l < f.layers.size(); l++) {
        const LayerSources &s = f.layers[l];
        LayerWeights &w = layers[l];
        w.wq = matrix_shape(s.wq), w.wk = matrix_shape(s.wk), w.wv = matrix_shape(s.wv), w.wo = matrix_shape(s.wo);
        w.w1 = matrix_shape(s.w1), w.w2 = matrix_shape(s.w2), w.w3 = matrix_shape(s.w3);
    }
    Weights w = measured;
    w.layers = layers.data();
    w.output = matrix_shape(f.tied() ? f.tok_embd : f.output);
    return Forward::bytes_needed(f.hp, w, k, fd);
}

} // namespace

size_t ModelPlan::total() const {
    size_t t = 0;
    each_part([&](const char *, size_t b) { t += span(b); });
    return t;
}

Bump ModelPlan::part(void *block, size_t ModelSizes::*which) const {
    size_t at = 0;
    for (const ModelPart &p : kModelParts) {
        if (p.tokenizer && !has_tokenizer) continue;
        const size_t s = span(bytes.*p.bytes);
        if (p.bytes == which) return Bump::over(static_cast<uint8_t *>(block) + at, s);
        at += s;
    }
    return Bump::over(static_cast<uint8_t *>(block) + at, 0); // an absent part: every take overflows
}

sm_status plan_model(const ModelFile &f, const sm_model_desc &d, const kern::Kernels &k, HostObjectSizes host, const char *path,
                     ModelPlan &p, Error &err, text::TokenizerTrial *tok_trial) {
    const Hparams &hp = f.hp;
    if (hp.head_dim > kMaxHeadDim) return err.set(SM_ERR_UNSUPPORTED, "head size %d exceeds %d", hp.head_dim, kMaxHeadDim);
    p = ModelPlan{};
    const size_t S = static_cast<size_t>(d.max_sessions);
    const text::VocabSource &v = f.vocab;
    p.has_tokenizer = !v.tokens.empty();
    if (p.has_tokenizer) {
        if (v.tokens.size() > static_cast<size_t>(hp.n_vocab))
            return err.set(SM_ERR_FORMAT, "%s: the vocabulary has %zu tokens but the embedding only %d rows", path,
                           v.tokens.size(), hp.n_vocab);
        if (text::Tokenizer::plan(v, d.max_text_bytes, &p.bytes.tokenizer_tables, &p.tokenize_scratch, err, tok_trial) != SM_OK)
            return err.wrap("%s: tokenizer", path);
        p.token_buf_cap = static_cast<size_t>(d.max_text_bytes) + 16;
        p.bytes.tokenizer_scratch = p.tokenize_scratch + p.token_buf_cap * sizeof(int32_t);
    }

    Bump measure = Bump::measuring();
    Weights w;
    SM_TRY(bind_weights(f, measure, w, err, k.rows8_types));
    p.bytes.weights = measure.used;

    p.geo = KvGeometry::make(hp.n_layers, hp.n_kv_heads, hp.head_dim, d.n_ctx, d.n_sinks, d.max_batch, d.kv_type == SM_KV_F16);
    p.forward.max_batch = d.max_batch;
    p.forward.max_segments = d.max_sessions;
    // Logits for every row only when asked; otherwise one row per session in a batch.
    p.forward.max_out_rows = d.all_logits ? d.max_batch : (d.max_sessions < d.max_batch ? d.max_sessions : d.max_batch);
    p.limits.n_vocab = hp.n_vocab;
    p.limits.pending_cap = d.max_text_bytes + 256;
    p.limits.history_cap = d.n_ctx;

    p.bytes.model = host.model + sizeof(Session *) * S;
    p.forward.max_lora_rank = d.max_adapters > 0 ? d.max_lora_rank : 0; // the activations hold the adapters' scratch
    p.bytes.activations = activation_bytes(f, w, k, p.forward);
    p.bytes.kv_cache = p.geo.bytes() * S;
    p.bytes.sessions = (Session::bytes_needed(p.limits) + host.session + 2 * kCacheLine) * S;
    p.bytes.scheduler = Scheduler::bytes_needed(d.max_sessions, d.max_batch);
    if (d.max_adapters > 0) {
        p.adapter_slot = lora::slot_bytes(hp, d.max_lora_rank);
        p.bytes.adapters = (align_up(host.adapter, kCacheLine) + ModelPlan::span(p.adapter_slot)) *
                           static_cast<size_t>(d.max_adapters);
    }
    return SM_OK;
}

} // namespace sm
