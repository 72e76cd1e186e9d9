// A model file opened for loading: hyperparameters, where each weight lives in the file,
// and the vocabulary. GGUF and llama2.c checkpoints both come out in this one shape, so
// everything after opening is format-blind. Heap use here ends when loading ends.
#pragma once
#include "core/error.h"
#include "core/file_map.h"
#include "format/gguf.h"
#include "format/tensor_type.h"
#include "text/vocab_source.h"

#include <vector>

namespace sm {

namespace gguf {
class Writer;
}

struct Hparams {
    char arch[32] = "llama";
    char name[64] = "";
    int32_t n_vocab = 0, dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0;
    int32_t head_dim = 0, n_ctx_train = 0;
    float rope_theta = 10000.0f, norm_eps = 1e-5f;
    int32_t kv_dim() const { return n_kv_heads * head_dim; }
    int32_t q_dim() const { return n_heads * head_dim; }
};

// One weight as stored in the file. ne0 is the contiguous (input) dimension.
struct TensorSource {
    const char *role = ""; // llama.cpp's name pattern, for messages
    TensorType type = TensorType::F32;
    int64_t ne0 = 0, ne1 = 1;
    const uint8_t *data = nullptr; // inside the mapped file
    uint64_t bytes = 0;
    uint32_t l2c_group = 0; // llama2.c v2: int8 values then f32 scales per group
    bool present() const { return data != nullptr; }
};

// The tensor's ne0 x ne1 values as floats, whatever it is stored as (a GGUF type or
// llama2.c's int8 groups): the one conversion both formats' loaders and the converter use.
// false for a type quant::dequantize_row does not take.
bool tensor_to_f32(const TensorSource &t, float *dst);

struct LayerSources {
    TensorSource attn_norm, wq, wk, wv, wo, ffn_norm, w1, w2, w3;
};

enum class FileKind { GGUF, Llama2c };

struct ModelFile {
    FileKind kind = FileKind::GGUF;
    Hparams hp;
    TensorSource tok_embd, output_norm, output; // output absent: tied to tok_embd
    std::vector<LayerSources> layers;
    text::VocabSource vocab;
    gguf::File gguf; // GGUF only; the vocabulary's views point into its map
    FileMap map, tok_map;
    std::vector<char> vocab_storage; // llama2.c pieces rewritten to SentencePiece form
    bool tied() const { return !output.present(); }
};

// Opens a GGUF file (by magic) or a llama2.c checkpoint (anything else); for llama2.c,
// tokenizer_path (may be NULL) names its tokenizer.bin. Validates every shape against
// the hyperparameters.
sm_status open_model_file(const char *path, const char *tokenizer_path, ModelFile &out, Error &err);

// Writes the "llama" architecture's metadata for hp (general.architecture, general.name,
// general.file_type, then the llama.* hyperparameters, in the order the reader above reads
// them), so every GGUF SmallMind writes names its shape the same way.
void write_llama_metadata(gguf::Writer &w, const Hparams &hp, uint32_t file_type);

// The parts, for tests and fuzzers (buffers must outlive `out`).
sm_status model_from_gguf(const gguf::File &f, const uint8_t *data, ModelFile &out, Error &err);
sm_status vocab_from_gguf(const gguf::File &f, text::VocabSource &out, Error &err);
sm_status model_from_llama2c(const uint8_t *data, size_t size, ModelFile &out, Error &err);
sm_status vocab_from_llama2c(const uint8_t *data, size_t size, int32_t n_vocab, text::VocabSource &out,
                             std::vector<char> &storage, Error &err);

} // namespace sm
