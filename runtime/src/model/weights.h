// The model's weights, bound to arena memory: GGUF's blocks (row-major rows of the input
// dimension; Q8_0 / Q4_0 matrices optionally regrouped by 8 rows for the ISA's kernels),
// and a tied classifier is just the embedding matrix again.
#pragma once
#include "core/bump.h"
#include "core/error.h"
#include "format/model_file.h"
#include "kernels/kernels.h"

namespace sm {

struct LayerWeights {
    const float *attn_norm = nullptr, *ffn_norm = nullptr;
    kern::Matrix wq, wk, wv, wo; // wo: q_dim -> dim
    kern::Matrix w1, w2, w3;     // gate, down, up
};

struct Weights {
    kern::Matrix tok_embd;
    kern::Matrix output; // == tok_embd when tied
    const float *output_norm = nullptr;
    LayerWeights *layers = nullptr;
    int n_layers = 0;
    TensorType main_type = TensorType::F32; // the type most weight bytes are in
    uint32_t type_tensors[32] = {0};        // tensors per TensorType, as loaded
    size_t type_bytes[32] = {0};
    size_t bytes = 0;
    int64_t n_params = 0;
};

// The matrix a weight becomes, without its data or layout: llama2.c int8 groups become F32.
kern::Matrix matrix_shape(const TensorSource &t);

// Lays the weights out in `arena` (measuring first tells the size) and, when the Bump is
// real, copies them from the mapped file: 1-D tensors become F32, llama2.c int8 groups are
// dequantized to F32, everything else keeps its GGUF bytes, block-interleaved
// (kern::Layout::Rows8) for the types in rows8_types (see Kernels::rows8_types).
sm_status bind_weights(const ModelFile &file, Bump &arena, Weights &w, Error &err, uint32_t rows8_types = 0);

} // namespace sm
