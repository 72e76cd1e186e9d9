// Reading and writing LoRA adapters in llama.cpp's GGUF format:
//   general.type = "adapter", adapter.type = "lora", adapter.lora.alpha (f32),
//   general.architecture = the base model's,
//   tensors "<base tensor name>.lora_a" (ne = [n_in, rank]) and ".lora_b" (ne = [rank, n_out]).
// Reading validates everything against the base model's hyperparameters, so an adapter
// for another model is refused with a message naming the tensor and both shapes.
// A tool path (loading, saving): it may use the heap.
#pragma once
#include "core/error.h"
#include "core/file_map.h"
#include "format/gguf.h"
#include "format/model_file.h"
#include "lora/lora.h"

#include <vector>

namespace sm::lora {

// One adapted projection: rank rows of A and n_out rows of B, as stored in the file.
struct PairSource {
    int32_t layer = 0;
    Target target = Target::Q;
    int32_t rank = 0;
    TensorSource a, b;
};

struct AdapterFile {
    float alpha = 0.0f;
    int32_t max_rank = 0;
    std::vector<PairSource> pairs;
    gguf::File gguf;
    FileMap map;
};

sm_status open_adapter_file(const char *path, const Hparams &base, AdapterFile &out, Error &err);
// The parser alone (data must outlive out), for tests and the fuzzer.
sm_status adapter_from_gguf(const gguf::File &f, const uint8_t *data, const Hparams &base, AdapterFile &out, Error &err);

// The largest rank of a GGUF LoRA file's lora_a tensors, without a base to check against.
sm_status adapter_file_rank(const char *path, int32_t *rank, Error &err);

// A's and B's values of one pair as floats (rank * n_in, then n_out * rank).
bool pair_floats(const PairSource &p, float *a, float *b);

// An adapter to write: F32 values, stored as `type` (F32, F16 or Q8_0; Q8_0 needs n_in and
// rank to be multiples of 32).
struct PairValues {
    int32_t layer = 0;
    Target target = Target::Q;
    int32_t rank = 0, n_in = 0, n_out = 0;
    const float *a = nullptr; // rank x n_in
    const float *b = nullptr; // n_out x rank
};
sm_status write_adapter_file(const char *path, const char *arch, float alpha, const std::vector<PairValues> &pairs,
                             TensorType type, Error &err);

} // namespace sm::lora
