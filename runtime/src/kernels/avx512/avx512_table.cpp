// The AVX-512 tables. Plain code: it only routes to the ISA files, never inlines them.
// Two variants with identical results: VNNI (vpdpbusd) when the CPU has it.
#if defined(__x86_64__)
#include "kernels/avx512/api.h"
#include "kernels/common/act.h"
#include "quant/quant.h"

namespace sm::kern {
namespace {

// With VNNI, Q8_0 / Q4_0 activations are ActFormat::Q8Grouped: the grouped GEMM's layout
// from kGroupedActMinRows rows up (kernels/avx512/q0.h), Q8Rows below. Same row bytes.
bool q0_type(TensorType w) { return w == TensorType::Q8_0 || w == TensorType::Q4_0; }

template <bool Vnni> ActFormat act_format(TensorType w) { return Vnni && q0_type(w) ? ActFormat::Q8Grouped : act_format_of(w); }

template <bool Vnni> void prepare_act(TensorType w, const float *x, int64_t ldx, int M, int r0, int r1, int K, void *act) {
    if (act_grouped(act_format<Vnni>(w), M))
        return avx512vnni::prepare_act_grouped(x, ldx, M, r0, r1, K, act, act_row_bytes_of(w, K));
    prepare_rows(w, x, ldx, r0, r1, K, act, avx512::prepare_act_q8);
}

template <bool Vnni> void matmul(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    if (act_is_q8(w.type)) {
        if (Vnni) avx512vnni::matmul_q8(w, act, arb, M, y, ldy, n0, n1);
        else avx512::matmul_q8(w, act, arb, M, y, ldy, n0, n1);
    } else {
        avx512::matmul_float(w, static_cast<const float *>(act), static_cast<int64_t>(arb / sizeof(float)), M, y, ldy, n0, n1);
    }
}

template <bool Vnni> constexpr Kernels avx512_table() {
    Kernels k{};
    k.isa = SM_ISA_AVX512;
    k.name = Vnni ? "avx512vnni" : "avx512";
    k.act_format = act_format<Vnni>;
    k.act_row_bytes = act_row_bytes_of;
    k.prepare_act = prepare_act<Vnni>;
    k.matmul = matmul<Vnni>;
    k.get_row = matrix_row;
    k.rmsnorm = avx512::rmsnorm;
    k.rope = avx512::rope;
    k.swiglu = avx512::swiglu;
    k.add = avx512::add;
    k.attention = avx512::attention;
    k.rows8_types = 0; // every layout is plain
    return k;
}

} // namespace

extern const Kernels kAvx512Kernels = avx512_table<false>();
extern const Kernels kAvx512VnniKernels = avx512_table<true>();

} // namespace sm::kern
#endif
