// A portable definition of ActFormat::Q8Grouped (the AVX-512 VNNI table's activation
// layout, kernels/avx512/q0.h), written from its description and not from the kernel, so
// that the conversion contract is tested on every machine, VNNI or not:
//   - grouped_prepare_ref / grouped_row_ref: the layout's bytes, and a row read back;
//   - grouped_reference_table(): the scalar table with Q8_0 / Q4_0 activations in this
//     layout (its products read them back and give the scalar table's bits), for running
//     the forward pass, its threads and slices over an M-dependent layout anywhere.
#pragma once
#include "kernels/common/act.h"
#include "kernels/kernels.h"
#include "quant/act_q8.h"

#include <cstdint>
#include <cstring>
#include <vector>

namespace kt {

using sm::TensorType;
using sm::kern::Kernels;

// Group g of an M-row batch: rows [16 g, 16 g + mg), at act + 16 g * arb.
//   quants: chunk c = 8 b + k (block b, k < 8) at + 4 mg c, mg dwords: dword r holds
//           bytes 4k..4k+3 of row r's quantized block b, each xor 0x80 (q + 128 unsigned)
//   scales: at + 32 nb mg, block b's mg floats at + 4 mg b
struct GroupedRef {
    static int rows_in(int M, int g) { return M - 16 * g < 16 ? M - 16 * g : 16; }
    static uint8_t *group(uint8_t *act, size_t arb, int g) { return act + static_cast<size_t>(16) * g * arb; }
    static size_t quant_at(int mg, int b, int e, int r) { return static_cast<size_t>(4) * mg * (8 * b + e / 4) + 4 * r + e % 4; }
    static size_t scale_at(int nb, int mg, int b, int r) {
        return static_cast<size_t>(32) * nb * mg + 4 * (static_cast<size_t>(mg) * b + r);
    }
};

// Rows [r0, r1) of an M-row batch (M >= kGroupedActMinRows), touching no other bytes.
inline void grouped_prepare_ref(const float *x, int64_t ldx, int M, int r0, int r1, int K, void *act, size_t arb) {
    const sm::quant::ActQ8Layout l = sm::quant::act_q8_layout(K);
    std::vector<uint8_t> row(l.bytes);
    for (int m = r0; m < r1; m++) {
        sm::quant::quantize_act_q8(x + m * ldx, K, row.data());
        const int g = m / 16, r = m % 16, mg = GroupedRef::rows_in(M, g);
        uint8_t *base = GroupedRef::group(static_cast<uint8_t *>(act), arb, g);
        for (int b = 0; b < l.nb; b++) {
            for (int e = 0; e < 32; e++) base[GroupedRef::quant_at(mg, b, e, r)] = row[32 * b + e] ^ 0x80;
            memcpy(base + GroupedRef::scale_at(l.nb, mg, b, r), row.data() + l.d_off + 4 * b, 4);
        }
    }
}

// Row m of a grouped batch back in the Q8Rows format (quant/act_q8.h), sums recomputed.
inline void grouped_row_ref(const void *act, size_t arb, int M, int m, int K, uint8_t *out) {
    const sm::quant::ActQ8Layout l = sm::quant::act_q8_layout(K);
    memset(out, 0, l.bytes);
    const int g = m / 16, r = m % 16, mg = GroupedRef::rows_in(M, g);
    const uint8_t *base = GroupedRef::group(const_cast<uint8_t *>(static_cast<const uint8_t *>(act)), arb, g);
    for (int b = 0; b < l.nb; b++) {
        int32_t sum = 0;
        for (int e = 0; e < 32; e++) {
            out[32 * b + e] = base[GroupedRef::quant_at(mg, b, e, r)] ^ 0x80;
            sum += static_cast<int8_t>(out[32 * b + e]);
        }
        memcpy(out + l.d_off + 4 * b, base + GroupedRef::scale_at(l.nb, mg, b, r), 4);
        memcpy(out + l.sum_off + 4 * b, &sum, 4);
    }
}

namespace grouped_detail {
inline bool q0(TensorType w) { return w == TensorType::Q8_0 || w == TensorType::Q4_0; }
inline sm::kern::ActFormat act_format(TensorType w) {
    return q0(w) ? sm::kern::ActFormat::Q8Grouped : sm::kern::act_format_of(w);
}
inline void prepare_act(TensorType w, const float *x, int64_t ldx, int M, int r0, int r1, int K, void *act) {
    if (sm::kern::act_grouped(act_format(w), M))
        return grouped_prepare_ref(x, ldx, M, r0, r1, K, act, sm::kern::act_row_bytes_of(w, K));
    sm::kern::kRefKernels.prepare_act(w, x, ldx, M, r0, r1, K, act);
}
inline void matmul(const sm::kern::Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    if (!sm::kern::act_grouped(act_format(w.type), M)) return sm::kern::kRefKernels.matmul(w, act, arb, M, y, ldy, n0, n1);
    std::vector<uint8_t> row(arb);
    for (int m = 0; m < M; m++) {
        grouped_row_ref(act, arb, M, m, w.cols, row.data());
        sm::kern::kRefKernels.matmul(w, row.data(), arb, 1, y + m * ldy, ldy, n0, n1);
    }
}
} // namespace grouped_detail

inline const Kernels &grouped_reference_table() {
    static const Kernels k = [] {
        Kernels t = sm::kern::kRefKernels;
        t.name = "scalar-grouped (test reference)";
        t.act_format = grouped_detail::act_format;
        t.prepare_act = grouped_detail::prepare_act;
        t.matmul = grouped_detail::matmul;
        return t;
    }();
    return k;
}

} // namespace kt
