// LoRA: low-rank deltas on the projections of a Llama model, W' = W + s * B A, as
// llama.cpp's GGUF adapters define them. A is rank x n_in (GGUF ne = [n_in, rank]), B is
// n_out x rank (ne = [rank, n_out]); s = scale * alpha / rank (scale alone when alpha is 0).
#pragma once
#include "format/model_file.h"

#include <cstdint>

namespace sm::lora {

// The projections an adapter may change, in the order of a layer's forward pass.
enum class Target : uint8_t { Q, K, V, O, Gate, Up, Down };
constexpr int kTargets = 7;

// llama.cpp's tensor name part ("attn_q", ...), and a short name for the CLI ("q", ...).
const char *target_tensor(Target t);
const char *target_short(Target t);
// "blk.<layer>.<target_tensor>.weight"
void base_tensor_name(int layer, Target t, char *out, size_t cap);

struct Shape {
    int32_t n_in = 0, n_out = 0;
};
Shape target_shape(const Hparams &hp, Target t);

// The effective multiplier of B A for an adapter of this alpha and rank at a user scale.
inline float effective_scale(float alpha, int rank, float scale) {
    return alpha != 0.0f && rank > 0 ? scale * alpha / static_cast<float>(rank) : scale;
}

} // namespace sm::lora
