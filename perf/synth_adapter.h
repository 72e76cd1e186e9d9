// Seeded random LoRA adapters in llama.cpp's GGUF format for a model's shapes: what
// `smallmind synth-adapter` writes, and what `bench --lora-rank` gives each session.
#pragma once
#include "smallmind/smallmind.h"

#include <cstdint>
#include <string>

struct SynthAdapter {
    int32_t rank = 8;
    float alpha = 16.0f;
    uint64_t seed = 1;
    uint32_t targets = 0x7f; // bit per projection: q k v o gate up down
    float b_std = 0.02f;     // 0 gives a fresh adapter (B = 0: the identity)
    std::string type = "f32";
};

// Writes the adapter for the loaded model's shapes; prints the reason and returns false
// on failure.
bool write_synth_adapter(const sm_model_info &info, const SynthAdapter &s, const std::string &path);
