// The AVX2 table. Plain code: it only routes to the ISA files, never inlines them.
#if defined(__x86_64__)
#include "kernels/avx2/api.h"
#include "kernels/common/act.h"
#include "quant/quant.h"

#include <cstring>

namespace sm::kern {
namespace {

int act_format(TensorType w) { return act_format_of(w); }
size_t act_row_bytes(TensorType w, int K) { return act_row_bytes_of(w, K); }

void prepare_act(TensorType w, const float *x, int64_t ldx, int M, int K, void *act) {
    const size_t rb = act_row_bytes_of(w, K);
    if (act_is_q8(w)) return avx2::prepare_act_q8(x, ldx, M, K, act, rb);
    for (int m = 0; m < M; m++) memcpy(static_cast<uint8_t *>(act) + m * rb, x + m * ldx, rb);
}

void matmul(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    if (act_is_q8(w.type)) avx2::matmul_q8(w, act, arb, M, y, ldy, n0, n1);
    else avx2::matmul_float(w, static_cast<const float *>(act), static_cast<int64_t>(arb / sizeof(float)), M, y, ldy, n0, n1);
}

} // namespace

extern const Kernels kAvx2Kernels = {
    SM_ISA_AVX2, "avx2", act_format, act_row_bytes, prepare_act, matmul, matrix_row,
    avx2::rmsnorm, avx2::rope, avx2::swiglu, avx2::add, avx2::layernorm, avx2::gelu, avx2::attention,
    (1u << static_cast<uint32_t>(TensorType::F32)) | (1u << static_cast<uint32_t>(TensorType::F16)) |
        (1u << static_cast<uint32_t>(TensorType::BF16)) | (1u << static_cast<uint32_t>(TensorType::Q8_0)) |
        (1u << static_cast<uint32_t>(TensorType::Q4_0)),
};

} // namespace sm::kern
#endif
