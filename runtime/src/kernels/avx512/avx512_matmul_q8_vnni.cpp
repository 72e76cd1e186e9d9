// AVX-512 VNNI Q8_0 / Q4_0 products (vpdpbusd): same lanes, same bits as matmul_q8.cpp.
#if defined(__x86_64__)
#define SM_ISA_VNNI 1
#include "kernels/x86/isa_avx512_begin.h"
#include "kernels/avx512/api.h"
#include "kernels/avx512/int8.h"
#include "kernels/avx512/q0.h"
#include "kernels/common/gemm_q8.h"

namespace sm::kern::avx512vnni {
void matmul_q8(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    if (w.type == TensorType::Q8_0) return matmul_q0<true>(w, act, arb, M, y, ldy, n0, n1);
    if (w.type == TensorType::Q4_0) return matmul_q0<false>(w, act, arb, M, y, ldy, n0, n1);
    gemm_q8<IntAvx512, 4, 4>(w, act, arb, M, y, ldy, n0, n1);
}

void prepare_act_grouped(const float *x, int64_t ldx, int M, int r0, int r1, int K, void *act, size_t arb) {
    q0_prepare_grouped(x, ldx, M, r0, r1, K, static_cast<uint8_t *>(act), arb);
}
} // namespace sm::kern::avx512vnni
#include "kernels/x86/isa_end.h"
#endif
