// The AVX-512 tables. Plain code: it only routes to the ISA files, never inlines them.
// Two variants with identical results: VNNI (vpdpbusd) when the CPU has it.
#if defined(__x86_64__)
#include "kernels/avx512/api.h"
#include "kernels/common/act.h"
#include "quant/quant.h"

#include <cstring>

namespace sm::kern {
namespace {

// With VNNI, Q8_0 / Q4_0 activations have a format of their own (2): natural rows for
// M < kQ0GemmMinRows, the GEMM's groups of 16 rows otherwise (kernels/avx512/q0.h). Same row bytes.
bool q0_type(TensorType w) { return w == TensorType::Q8_0 || w == TensorType::Q4_0; }

template <bool Vnni> int act_format(TensorType w) { return Vnni && q0_type(w) ? 2 : act_format_of(w); }
size_t act_row_bytes(TensorType w, int K) { return act_row_bytes_of(w, K); }

template <bool Vnni> void prepare_act(TensorType w, const float *x, int64_t ldx, int M, int K, void *act) {
    const size_t rb = act_row_bytes_of(w, K);
    if (Vnni && q0_type(w) && M >= avx512vnni::kQ0GemmMinRows) return avx512vnni::prepare_act_grouped(x, ldx, M, K, act, rb);
    if (act_is_q8(w)) return avx512::prepare_act_q8(x, ldx, M, K, act, rb);
    for (int m = 0; m < M; m++) memcpy(static_cast<uint8_t *>(act) + m * rb, x + m * ldx, rb);
}

template <bool Vnni>
void matmul(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    if (act_is_q8(w.type)) {
        if (Vnni) avx512vnni::matmul_q8(w, act, arb, M, y, ldy, n0, n1);
        else avx512::matmul_q8(w, act, arb, M, y, ldy, n0, n1);
    } else {
        avx512::matmul_float(w, static_cast<const float *>(act), static_cast<int64_t>(arb / sizeof(float)), M, y, ldy, n0, n1);
    }
}

} // namespace

extern const Kernels kAvx512Kernels = {
    SM_ISA_AVX512, "avx512", act_format<false>, act_row_bytes, prepare_act<false>, matmul<false>, matrix_row,
    avx512::rmsnorm, avx512::rope, avx512::swiglu, avx512::add, avx512::layernorm, avx512::gelu, avx512::attention,
    0, // every layout is plain
};
extern const Kernels kAvx512VnniKernels = {
    SM_ISA_AVX512, "avx512vnni", act_format<true>, act_row_bytes, prepare_act<true>, matmul<true>, matrix_row,
    avx512::rmsnorm, avx512::rope, avx512::swiglu, avx512::add, avx512::layernorm, avx512::gelu, avx512::attention,
    0, // every layout is plain
};

} // namespace sm::kern
#endif
