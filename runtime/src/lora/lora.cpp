#include "lora/lora.h"

#include <cstdio>

namespace sm::lora {

const char *target_tensor(Target t) {
    static const char *const names[kTargets] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
    return names[static_cast<int>(t)];
}

const char *target_short(Target t) {
    static const char *const names[kTargets] = {"q", "k", "v", "o", "gate", "up", "down"};
    return names[static_cast<int>(t)];
}

void base_tensor_name(int layer, Target t, char *out, size_t cap) {
    snprintf(out, cap, "blk.%d.%s.weight", layer, target_tensor(t));
}

Shape target_shape(const Hparams &hp, Target t) {
    switch (t) {
    case Target::Q: return {hp.dim, hp.q_dim()};
    case Target::K:
    case Target::V: return {hp.dim, hp.kv_dim()};
    case Target::O: return {hp.q_dim(), hp.dim};
    case Target::Gate:
    case Target::Up: return {hp.dim, hp.hidden_dim};
    case Target::Down: return {hp.hidden_dim, hp.dim};
    }
    return {};
}

} // namespace sm::lora
