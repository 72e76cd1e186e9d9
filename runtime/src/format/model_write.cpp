// The "llama" metadata every GGUF file SmallMind writes starts with (model_file.h).
#include "format/gguf_write.h"
#include "format/model_file.h"

namespace sm {

void write_llama_metadata(gguf::Writer &w, const Hparams &hp, uint32_t file_type) {
    w.set_string("general.architecture", "llama");
    w.set_string("general.name", hp.name);
    w.set_u32("general.file_type", file_type);
    w.set_u32("llama.context_length", static_cast<uint32_t>(hp.n_ctx_train));
    w.set_u32("llama.embedding_length", static_cast<uint32_t>(hp.dim));
    w.set_u32("llama.feed_forward_length", static_cast<uint32_t>(hp.hidden_dim));
    w.set_u32("llama.block_count", static_cast<uint32_t>(hp.n_layers));
    w.set_u32("llama.attention.head_count", static_cast<uint32_t>(hp.n_heads));
    w.set_u32("llama.attention.head_count_kv", static_cast<uint32_t>(hp.n_kv_heads));
    w.set_u32("llama.rope.dimension_count", static_cast<uint32_t>(hp.head_dim));
    w.set_f32("llama.rope.freq_base", hp.rope_theta);
    w.set_f32("llama.attention.layer_norm_rms_epsilon", hp.norm_eps);
    w.set_u32("llama.vocab_size", static_cast<uint32_t>(hp.n_vocab));
}

} // namespace sm
