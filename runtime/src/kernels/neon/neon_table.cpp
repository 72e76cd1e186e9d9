// The NEON tables: with and without the dot-product extension, identical results.
#if defined(__aarch64__)
#include "kernels/common/act.h"
#include "kernels/neon/api.h"
#include "quant/quant.h"

namespace sm::kern {
namespace {

// The 8-bit quantizer is O(K) per row: the scalar definition is fast enough here.
void quantize_rows(const float *x, int64_t ldx, int M, int K, void *act, size_t rb) {
    for (int m = 0; m < M; m++) quant::quantize_act_q8(x + m * ldx, K, static_cast<uint8_t *>(act) + m * rb);
}

void prepare_act(TensorType w, const float *x, int64_t ldx, int M, int r0, int r1, int K, void *act) {
    prepare_rows(w, x, ldx, r0, r1, K, act, quantize_rows);
}

template <bool Dot> void matmul(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    if (act_is_q8(w.type)) {
        if (Dot) neondot::matmul_q8(w, act, arb, M, y, ldy, n0, n1);
        else neon::matmul_q8(w, act, arb, M, y, ldy, n0, n1);
    } else {
        neon::matmul_float(w, static_cast<const float *>(act), static_cast<int64_t>(arb / sizeof(float)), M, y, ldy, n0, n1);
    }
}

template <bool Dot> constexpr Kernels neon_table() {
    Kernels k{};
    k.isa = SM_ISA_NEON;
    k.name = Dot ? "neondot" : "neon";
    k.act_format = act_format_of;
    k.act_row_bytes = act_row_bytes_of;
    k.prepare_act = prepare_act;
    k.matmul = matmul<Dot>;
    k.get_row = matrix_row;
    k.rmsnorm = neon::rmsnorm;
    k.rope = neon::rope;
    k.swiglu = neon::swiglu;
    k.add = neon::add;
    k.attention = neon::attention;
    k.rows8_types = 0; // every layout is plain
    return k;
}

} // namespace

extern const Kernels kNeonKernels = neon_table<false>();
extern const Kernels kNeonDotKernels = neon_table<true>();

} // namespace sm::kern
#endif
