// Merging adapters into a GGUF model: W' = W + sum_i s_i B_i A_i for every adapted
// projection, written as a new GGUF file with the base's metadata and tensor order, in
// the base's types or one type for every matrix. A tool path: it may use the heap.
#pragma once
#include "core/error.h"
#include "format/tensor_type.h"

#include <vector>

namespace sm::lora {

struct MergeAdapter {
    const char *path = nullptr;
    float scale = 1.0f;
};

// matrix_type: the type every weight matrix is written in, or nullptr to keep each one's.
sm_status merge_into_gguf(const char *base_path, const std::vector<MergeAdapter> &adapters, const char *out_path,
                          const TensorType *matrix_type, Error &err);

} // namespace sm::lora
