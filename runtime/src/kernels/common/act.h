// Activation formats: what a kernel table's matmul reads in place of the float rows.
// This is the one list of them; a table's act_format() names one per weight type, and
// weights of different types share converted rows when their formats are equal.
//
//   Floats     the rows as they are (float weights read them in place, nothing converted)
//   Q8Rows     8-bit blocks, one row after another (quant/act_q8.h): Q8_0, Q4_0, Q4_K,
//              Q6_K, whose products are integer dot products
//   Q8Grouped  the same quantized blocks, but from a batch of kGroupedActMinRows rows up,
//              interleaved in groups of 16 rows for the AVX-512 VNNI GEMM (layout in
//              kernels/avx512/q0.h); smaller batches are Q8Rows. The layout depends on the
//              batch's row count M, which is why prepare_act takes M and a row range.
#pragma once
#include "format/tensor_type.h"
#include "quant/act_q8.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sm::kern {

enum class ActFormat : uint8_t { Floats, Q8Rows, Q8Grouped };

// Row count from which Q8Grouped activations take the grouped layout (below it the VNNI
// GEMM's 16 lanes, one per activation row, would mostly idle, and the GEMV runs instead).
constexpr int kGroupedActMinRows = 12;
constexpr int kActGroupRows = 16;

inline bool act_is_q8(TensorType w) {
    return w == TensorType::Q8_0 || w == TensorType::Q4_0 || w == TensorType::Q4_K || w == TensorType::Q6_K;
}
inline ActFormat act_format_of(TensorType w) { return act_is_q8(w) ? ActFormat::Q8Rows : ActFormat::Floats; }
inline size_t act_row_bytes_of(TensorType w, int K) {
    return act_is_q8(w) ? quant::act_q8_layout(K).bytes : static_cast<size_t>(K) * sizeof(float);
}
// Whether a batch of M rows in format f is in the grouped layout.
inline bool act_grouped(ActFormat f, int M) { return f == ActFormat::Q8Grouped && M >= kGroupedActMinRows; }

} // namespace sm::kern

namespace sm::kern {

// prepare_act for the row-after-row formats (Floats, Q8Rows): rows [r0, r1) of the batch,
// quantized by the table's q8(x, ldx, rows, K, act, row_bytes).
template <class Q8> inline void prepare_rows(TensorType w, const float *x, int64_t ldx, int r0, int r1, int K, void *act, Q8 q8) {
    const size_t rb = act_row_bytes_of(w, K);
    const float *xr = x + static_cast<int64_t>(r0) * ldx;
    uint8_t *ar = static_cast<uint8_t *>(act) + static_cast<size_t>(r0) * rb;
    if (act_is_q8(w)) return q8(xr, ldx, r1 - r0, K, ar, rb);
    for (int m = 0; m < r1 - r0; m++) memcpy(ar + static_cast<size_t>(m) * rb, xr + m * ldx, rb);
}

} // namespace sm::kern
