// The NEON tables: with and without the dot-product extension, identical results.
#if defined(__aarch64__)
#include "kernels/common/act.h"
#include "kernels/neon/api.h"
#include "quant/quant.h"

#include <cstring>

namespace sm::kern {
namespace {

int act_format(TensorType w) { return act_format_of(w); }
size_t act_row_bytes(TensorType w, int K) { return act_row_bytes_of(w, K); }

// The 8-bit quantizer is O(K) per row: the scalar definition is fast enough here.
void prepare_act(TensorType w, const float *x, int64_t ldx, int M, int K, void *act) {
    const size_t rb = act_row_bytes_of(w, K);
    for (int m = 0; m < M; m++) {
        uint8_t *dst = static_cast<uint8_t *>(act) + m * rb;
        if (act_is_q8(w)) quant::quantize_act_q8(x + m * ldx, K, dst);
        else memcpy(dst, x + m * ldx, rb);
    }
}

template <bool Dot>
void matmul(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    if (act_is_q8(w.type)) {
        if (Dot) neondot::matmul_q8(w, act, arb, M, y, ldy, n0, n1);
        else neon::matmul_q8(w, act, arb, M, y, ldy, n0, n1);
    } else {
        neon::matmul_float(w, static_cast<const float *>(act), static_cast<int64_t>(arb / sizeof(float)), M, y, ldy, n0, n1);
    }
}

} // namespace

extern const Kernels kNeonKernels = {
    SM_ISA_NEON, "neon", act_format, act_row_bytes, prepare_act, matmul<false>, matrix_row,
    neon::rmsnorm, neon::rope, neon::swiglu, neon::add, neon::layernorm, neon::gelu, neon::attention,
    0, // every layout is plain
};
extern const Kernels kNeonDotKernels = {
    SM_ISA_NEON, "neondot", act_format, act_row_bytes, prepare_act, matmul<true>, matrix_row,
    neon::rmsnorm, neon::rope, neon::swiglu, neon::add, neon::layernorm, neon::gelu, neon::attention,
    0, // every layout is plain
};

} // namespace sm::kern
#endif
