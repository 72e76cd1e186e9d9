// Matrix products of every SIMD table against the scalar oracle (and the oracle against
// an exact double-precision product), on odd sizes, odd strides and unaligned data, plus
// the determinism contract: the same bits whatever M, [n0, n1) or row offset.
#include "kernel_test_util.h"

#include "quant/act_q8.h"

using namespace kt;
using sm::kern::kRefKernels;

namespace {

const int kMs[] = {1, 2, 3, 5, 7, 16, 17, 64};

bool int8_act(TensorType t) {
    return t == TensorType::Q8_0 || t == TensorType::Q4_0 || t == TensorType::Q4_K || t == TensorType::Q6_K;
}

// The values the products really use: dequantized weights, and the activations as the
// kernels see them (floats, or q * d of the 8-bit format).
std::vector<double> used_x(TensorType t, Acts &a, const std::vector<float> &x, int64_t ldx, int M, int K) {
    std::vector<double> v(static_cast<size_t>(M) * K);
    for (int m = 0; m < M; m++) {
        if (int8_act(t)) {
            const sm::quant::ActQ8Layout l = sm::quant::act_q8_layout(K);
            const uint8_t *row = static_cast<uint8_t *>(a.p()) + a.rb * m;
            for (int k = 0; k < K; k++) {
                float d;
                memcpy(&d, row + l.d_off + 4 * (k / 32), 4);
                v[static_cast<size_t>(m) * K + k] = static_cast<double>(reinterpret_cast<const int8_t *>(row)[k]) * d;
            }
        } else {
            for (int k = 0; k < K; k++) v[static_cast<size_t>(m) * K + k] = x[m * ldx + k];
        }
    }
    return v;
}

// Rounding steps along one output's evaluation (see sum_bound): a float chain of K
// products; for the integer formats one term per 32-block (two per block for Q6_K's
// 16-element scales, one more per sub-block for Q4_K's mins) plus the lane tree and the
// scale products. The dequantized weights of K-quants are themselves rounded once, a
// relative u per term, inside the same budget.
int rounds(TensorType t, int K) {
    if (t == TensorType::Q4_K || t == TensorType::Q6_K) return K / 16 + 16;
    return int8_act(t) ? K / 32 + 8 : K + 2;
}

void check_matmul(const Kernels &k, TensorType t, int M, int N, int K, uint32_t seed) {
    INFO("table " << k.name << " type " << sm::type_name(static_cast<uint32_t>(t)) << " M=" << M << " N=" << N << " K=" << K);
    Weights w(t, N, K, seed);
    const int64_t ldx = K + 3;
    std::vector<float> x = randn(static_cast<size_t>(M) * ldx, seed + 1);
    Acts ar(kRefKernels, t, x.data(), ldx, M, K), as(k, t, x.data(), ldx, M, K);
    REQUIRE(ar.rb == as.rb);
    // One activation format for all tables: the SIMD quantizer must give the same bytes.
    REQUIRE(memcmp(ar.p(), as.p(), ar.rb * M) == 0);
    const int64_t ldy = N + 5;
    const float sentinel = -12345.0f;
    std::vector<float> yr(static_cast<size_t>(M) * ldy + 1, sentinel), ys(yr);
    kRefKernels.matmul(w.matrix(), ar.p(), ar.rb, M, yr.data() + 1, ldy, 0, N);
    k.matmul(w.matrix(), as.p(), as.rb, M, ys.data() + 1, ldy, 0, N);
    const std::vector<double> xv = used_x(t, ar, x, ldx, M, K);
    int bad = 0;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < ldy; n++) {
            const float r = yr[1 + m * ldy + n], s = ys[1 + m * ldy + n];
            if (n >= N) { // outside [n0, n1): untouched
                if (s != sentinel) bad++;
                continue;
            }
            double exact = 0, abs_sum = 0;
            for (int kk = 0; kk < K; kk++) {
                const double p = static_cast<double>(w.deq[static_cast<size_t>(n) * K + kk]) * xv[static_cast<size_t>(m) * K + kk];
                exact += p;
                abs_sum += std::fabs(p);
            }
            const double tol = sum_bound(rounds(t, K), abs_sum);
            if (!(std::fabs(static_cast<double>(s) - r) <= tol) || !(std::fabs(r - exact) <= tol)) {
                if (bad++ < 5) FAIL_CHECK("y[" << m << "][" << n << "] simd " << s << " ref " << r << " exact " << exact << " tol " << tol);
            }
        }
    CHECK(bad == 0);
}

// Every output computed as part of M=64 over [0, N) must equal, bit for bit, the same
// output computed one row at a time over scattered row ranges, and in a middle slice.
void check_determinism(const Kernels &k, TensorType t, int N, int K, uint32_t seed) {
    INFO("table " << k.name << " type " << sm::type_name(static_cast<uint32_t>(t)) << " N=" << N << " K=" << K);
    const int M = 64;
    Weights w(t, N, K, seed);
    std::vector<float> x = randn(static_cast<size_t>(M) * K, seed + 7);
    Acts a(k, t, x.data(), K, M, K);
    std::vector<float> full(static_cast<size_t>(M) * N), part(full.size(), NAN);
    k.matmul(w.matrix(), a.p(), a.rb, M, full.data(), N, 0, N);
    std::mt19937 g(seed);
    // M = 1, random [n0, n1) pieces covering the row.
    for (int m = 0; m < M; m++) {
        int n0 = 0;
        while (n0 < N) {
            const int n1 = std::min(N, n0 + 1 + static_cast<int>(g() % 37));
            k.matmul(w.matrix(), static_cast<uint8_t *>(a.p()) + a.rb * m, a.rb, 1, part.data() + m * N, N, n0, n1);
            n0 = n1;
        }
    }
    CHECK(bits_equal(full.data(), part.data(), full.size()));
    // Rows 5..21 (M = 17) over [3, N - 2), every other count in between.
    for (int mm : {17, 2, 3, 7}) {
        std::vector<float> mid(static_cast<size_t>(mm) * N, NAN);
        const int n0 = N > 5 ? 3 : 0, n1 = N > 5 ? N - 2 : N;
        k.matmul(w.matrix(), static_cast<uint8_t *>(a.p()) + a.rb * 5, a.rb, mm, mid.data(), N, n0, n1);
        bool same = true;
        for (int m = 0; m < mm; m++) same &= bits_equal(&full[static_cast<size_t>(5 + m) * N + n0], &mid[static_cast<size_t>(m) * N + n0], static_cast<size_t>(n1 - n0));
        CHECK(same);
    }
}

const int kOdd[] = {1, 3, 17, 31, 32, 33, 63, 64, 65, 127, 288};

} // namespace

TEST_CASE("matmul: float weights (f32, f16, bf16) match the oracle on odd sizes", "[kernels]") {
    for (const Kernels *k : simd_tables())
        for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16}) {
            int i = 0;
            for (int K : kOdd)
                for (int N : kOdd) check_matmul(*k, t, kMs[i % 8], N, K, 100 + i), i++;
            for (int M : kMs) check_matmul(*k, t, M, 65, 288, 7 + M);
        }
}

TEST_CASE("matmul: q8_0 and q4_0 (integer dot products) match the oracle", "[kernels]") {
    for (const Kernels *k : simd_tables())
        for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
            int i = 0;
            for (int K : {32, 64, 96, 288, 768})
                for (int N : {1, 3, 17, 33, 64, 65}) check_matmul(*k, t, kMs[i % 8], N, K, 200 + i), i++;
            for (int M : kMs) check_matmul(*k, t, M, 33, 96, 9 + M);
        }
}

TEST_CASE("matmul: q4_K and q6_K (integer dot products) match the oracle", "[kernels]") {
    for (const Kernels *k : simd_tables())
        for (TensorType t : {TensorType::Q4_K, TensorType::Q6_K}) {
            int i = 0;
            for (int K : {256, 512, 768})
                for (int N : {1, 3, 17, 33, 65}) check_matmul(*k, t, kMs[i % 8], N, K, 300 + i), i++;
            for (int M : kMs) check_matmul(*k, t, M, 17, 256, 11 + M);
        }
}

TEST_CASE("matmul: the scalar oracle itself agrees with exact products", "[kernels]") {
    // check_matmul compares the oracle to the double product too; run it against itself.
    for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_K, TensorType::Q6_K}) {
        const int K = t == TensorType::Q4_K || t == TensorType::Q6_K ? 512 : 96;
        check_matmul(kRefKernels, t, 3, 17, K, 77);
    }
}

TEST_CASE("matmul: bit-identical whatever M, row range or row offset (every table, every type)", "[kernels]") {
    std::vector<const Kernels *> tabs = simd_tables();
    tabs.push_back(&kRefKernels);
    for (const Kernels *k : tabs) {
        for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16}) {
            check_determinism(*k, t, 67, 33, 1);
            check_determinism(*k, t, 45, 300, 2);
        }
        for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
            check_determinism(*k, t, 67, 96, 3);
            check_determinism(*k, t, 45, 288, 4);
        }
        for (TensorType t : {TensorType::Q4_K, TensorType::Q6_K}) check_determinism(*k, t, 37, 512, 5);
    }
}

TEST_CASE("matmul: AVX-512 with and without VNNI give identical bits", "[kernels]") {
#if defined(__x86_64__)
    const sm::CpuFeatures f = sm::detect_cpu();
    if (!sm::kern::can_run(sm::kern::kAvx512VnniKernels, f)) {
        WARN("no AVX-512 VNNI on this CPU: skipped");
        return;
    }
    for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
        const int M = 7, N = 19, K = 288;
        Weights w(t, N, K, 5);
        std::vector<float> x = randn(static_cast<size_t>(M) * K, 6);
        Acts a(sm::kern::kAvx512Kernels, t, x.data(), K, M, K);
        std::vector<float> y1(M * N), y2(M * N);
        sm::kern::kAvx512Kernels.matmul(w.matrix(), a.p(), a.rb, M, y1.data(), N, 0, N);
        sm::kern::kAvx512VnniKernels.matmul(w.matrix(), a.p(), a.rb, M, y2.data(), N, 0, N);
        CHECK(bits_equal(y1.data(), y2.data(), y1.size()));
    }
#else
    WARN("not an x86-64 build: skipped");
#endif
}

TEST_CASE("get_row: every table returns ggml's dequantization exactly", "[kernels]") {
    std::vector<const Kernels *> tabs = simd_tables();
    tabs.push_back(&kRefKernels);
    for (const Kernels *k : tabs)
        for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_K, TensorType::Q6_K}) {
            const int K = t == TensorType::Q4_K || t == TensorType::Q6_K ? 512 : 96;
            Weights w(t, 5, K, 9);
            std::vector<float> row(K);
            for (int r = 0; r < 5; r++) {
                k->get_row(w.matrix(), r, row.data());
                CHECK(bits_equal(row.data(), &w.deq[static_cast<size_t>(r) * K], K));
            }
        }
}
