// The AVX2 table. Plain code: it only routes to the ISA files, never inlines them.
#if defined(__x86_64__)
#include "kernels/avx2/api.h"
#include "kernels/common/act.h"
#include "quant/quant.h"

namespace sm::kern {
namespace {

void prepare_act(TensorType w, const float *x, int64_t ldx, int M, int r0, int r1, int K, void *act) {
    prepare_rows(w, x, ldx, r0, r1, K, act, avx2::prepare_act_q8);
}

void matmul(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    if (act_is_q8(w.type)) avx2::matmul_q8(w, act, arb, M, y, ldy, n0, n1);
    else avx2::matmul_float(w, static_cast<const float *>(act), static_cast<int64_t>(arb / sizeof(float)), M, y, ldy, n0, n1);
}

constexpr uint32_t type_bit(TensorType t) { return 1u << static_cast<uint32_t>(t); }

constexpr Kernels avx2_table() {
    Kernels k{};
    k.isa = SM_ISA_AVX2;
    k.name = "avx2";
    k.act_format = act_format_of;
    k.act_row_bytes = act_row_bytes_of;
    k.prepare_act = prepare_act;
    k.matmul = matmul;
    k.get_row = matrix_row;
    k.rmsnorm = avx2::rmsnorm;
    k.rope = avx2::rope;
    k.swiglu = avx2::swiglu;
    k.add = avx2::add;
    k.attention = avx2::attention;
    k.rows8_types = type_bit(TensorType::F32) | type_bit(TensorType::F16) | type_bit(TensorType::BF16) |
                    type_bit(TensorType::Q8_0) | type_bit(TensorType::Q4_0);
    return k;
}

} // namespace

extern const Kernels kAvx2Kernels = avx2_table();

} // namespace sm::kern
#endif
