// Which activation format each weight type takes, the same in every table:
// 0 = the floats as they are, 1 = 8-bit blocks (quant/act_q8.h) for the quantized
// types (Q8_0, Q4_0, Q4_K, Q6_K), whose products are integer dot products.
#pragma once
#include "format/tensor_type.h"
#include "quant/act_q8.h"

#include <cstddef>

namespace sm::kern {

inline bool act_is_q8(TensorType w) {
    return w == TensorType::Q8_0 || w == TensorType::Q4_0 || w == TensorType::Q4_K || w == TensorType::Q6_K;
}
inline int act_format_of(TensorType w) { return act_is_q8(w) ? 1 : 0; }
inline size_t act_row_bytes_of(TensorType w, int K) {
    return act_is_q8(w) ? quant::act_q8_layout(K).bytes : static_cast<size_t>(K) * sizeof(float);
}

} // namespace sm::kern
