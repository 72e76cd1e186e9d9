// Matrix products of every SIMD table against the scalar oracle (and the oracle against
// an exact double-precision product), on odd sizes, odd strides and unaligned data, plus
// the determinism contract: the same bits whatever M, [n0, n1) or row offset.
#include "grouped_act_reference.h"
#include "kernel_test_util.h"

#include "quant/act_q8.h"
#include "quant/quant.h"

using namespace kt;
using sm::kern::kRefKernels;

namespace {

const int kMs[] = {1, 3, 5, 8, 11, 12, 14, 16, 17, 64}; // around the AVX-512 GEMV / GEMM switch; 8, 14: split last tiles

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

// Whether a table's prepared activations hold exactly the oracle's bytes, in the table's
// layout: the plain rows, or the grouped layout's portable definition.
bool same_activations(const Kernels &k, TensorType t, Acts &ar, Acts &as, const float *x, int64_t ldx, int M, int K) {
    if (!sm::kern::act_grouped(k.act_format(t), M)) return memcmp(ar.p(), as.p(), ar.rb * M) == 0;
    Acts ag(grouped_reference_table(), t, x, ldx, M, K);
    return memcmp(ag.p(), as.p(), as.rb * M) == 0;
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
    // The SIMD quantizers give the oracle's bytes (in the table's layout).
    REQUIRE(same_activations(k, t, ar, as, x.data(), ldx, M, K));
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
                const double p = static_cast<double>(w.deq[static_cast<size_t>(n) * K + kk]) *
                                 xv[static_cast<size_t>(m) * K + kk];
                exact += p;
                abs_sum += std::fabs(p);
            }
            const double tol = sum_bound(rounds(t, K), abs_sum);
            if (!(std::fabs(static_cast<double>(s) - r) <= tol) || !(std::fabs(r - exact) <= tol)) {
                if (bad++ < 5)
                    FAIL_CHECK("y[" << m << "][" << n << "] simd " << s << " ref " << r << " exact " << exact << " tol " << tol);
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
    // M = 1, random [n0, n1) pieces covering the row. (Activations are prepared for the
    // rows a call takes, as the runtime does: their layout may depend on M.)
    for (int m = 0; m < M; m++) {
        Acts a1(k, t, x.data() + static_cast<size_t>(m) * K, K, 1, K);
        int n0 = 0;
        while (n0 < N) {
            const int n1 = std::min(N, n0 + 1 + static_cast<int>(g() % 37));
            k.matmul(w.matrix(), a1.p(), a1.rb, 1, part.data() + m * N, N, n0, n1);
            n0 = n1;
        }
    }
    CHECK(bits_equal(full.data(), part.data(), full.size()));
    // Rows 5..21 (M = 17) over [3, N - 2), every other count in between.
    for (int mm : {17, 2, 3, 7, 4, 16, 33}) {
        std::vector<float> mid(static_cast<size_t>(mm) * N, NAN);
        const int n0 = N > 5 ? 3 : 0, n1 = N > 5 ? N - 2 : N;
        Acts am(k, t, x.data() + static_cast<size_t>(5) * K, K, mm, K);
        k.matmul(w.matrix(), am.p(), am.rb, mm, mid.data(), N, n0, n1);
        bool same = true;
        for (int m = 0; m < mm; m++)
            same &= bits_equal(&full[static_cast<size_t>(5 + m) * N + n0], &mid[static_cast<size_t>(m) * N + n0],
                               static_cast<size_t>(n1 - n0));
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
                for (int N : kOdd) check_matmul(*k, t, kMs[i % (sizeof kMs / sizeof *kMs)], N, K, 100 + i), i++;
            for (int M : kMs) check_matmul(*k, t, M, 65, 288, 7 + M);
        }
}

TEST_CASE("matmul: q8_0 and q4_0 (integer dot products) match the oracle", "[kernels]") {
    std::vector<const Kernels *> tabs = simd_tables();
    tabs.push_back(&grouped_reference_table());
    for (const Kernels *k : tabs)
        for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
            int i = 0;
            for (int K : {32, 64, 96, 288, 768})
                for (int N : {1, 3, 17, 33, 64, 65}) check_matmul(*k, t, kMs[i % (sizeof kMs / sizeof *kMs)], N, K, 200 + i), i++;
            for (int M : kMs) check_matmul(*k, t, M, 33, 96, 9 + M);
        }
}

TEST_CASE("matmul: q4_K and q6_K (integer dot products) match the oracle", "[kernels]") {
    for (const Kernels *k : simd_tables())
        for (TensorType t : {TensorType::Q4_K, TensorType::Q6_K}) {
            int i = 0;
            for (int K : {256, 512, 768})
                for (int N : {1, 3, 17, 33, 65}) check_matmul(*k, t, kMs[i % (sizeof kMs / sizeof *kMs)], N, K, 300 + i), i++;
            for (int M : kMs) check_matmul(*k, t, M, 17, 256, 11 + M);
        }
}

TEST_CASE("matmul: the scalar oracle itself agrees with exact products", "[kernels]") {
    // check_matmul compares the oracle to the double product too; run it against itself.
    for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_K,
                         TensorType::Q6_K}) {
        const int K = t == TensorType::Q4_K || t == TensorType::Q6_K ? 512 : 96;
        check_matmul(kRefKernels, t, 3, 17, K, 77);
    }
}

TEST_CASE("matmul: bit-identical whatever M, row range or row offset (every table, every type)", "[kernels]") {
    std::vector<const Kernels *> tabs = simd_tables();
    tabs.push_back(&kRefKernels);
    tabs.push_back(&grouped_reference_table());
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
    // Shapes across the GEMM's tiles: M groups of 16 (and 8-group chunks), K-chunks of 16
    // blocks, the GEMV's 64-block scale batches, odd block counts, partial row tiles.
    const int shapes[][3] = {{7, 19, 288}, {1, 40, 288},  {3, 17, 96},    {16, 33, 768},
                             {37, 16, 32}, {150, 21, 64}, {20, 35, 2080}, {2, 35, 2080}};
    for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0})
        for (const auto &sh : shapes) {
            const int M = sh[0], N = sh[1], K = sh[2];
            INFO(sm::type_name(static_cast<uint32_t>(t)) << " M=" << M << " N=" << N << " K=" << K);
            Weights w(t, N, K, 5 + K);
            std::vector<float> x = randn(static_cast<size_t>(M) * K, 6 + M);
            Acts a(sm::kern::kAvx512Kernels, t, x.data(), K, M, K), av(sm::kern::kAvx512VnniKernels, t, x.data(), K, M, K);
            std::vector<float> y1(static_cast<size_t>(M) * N), y2(static_cast<size_t>(M) * N);
            sm::kern::kAvx512Kernels.matmul(w.matrix(), a.p(), a.rb, M, y1.data(), N, 0, N);
            sm::kern::kAvx512VnniKernels.matmul(w.matrix(), av.p(), av.rb, M, y2.data(), N, 0, N);
            CHECK(bits_equal(y1.data(), y2.data(), y1.size()));
        }
#else
    WARN("not an x86-64 build: skipped");
#endif
}

// ggml's quantizer never writes -128 into a Q8_0 block, but files may hold it: every
// table must take it as -128 (the VNNI kernels offset weights or activations by 128).
TEST_CASE("matmul: q8_0 weights of -128 and all-extreme blocks", "[kernels]") {
    std::vector<const Kernels *> tabs = simd_tables();
    for (const Kernels *k : tabs)
        for (int M : {1, 5, 17}) {
            const int N = 21, K = 96;
            INFO(k->name << " M=" << M);
            Weights w(TensorType::Q8_0, N, K, 91);
            std::mt19937 g(3);
            for (int r = 0; r < N; r++) {
                uint8_t *row = w.buf.data() + w.off + w.rb * r;
                for (int b = 0; b < K / 32; b++) {
                    int8_t *qs = reinterpret_cast<int8_t *>(row + 34 * b + 2);
                    for (int e = 0; e < 32; e++)
                        if (r % 3 == 0 || g() % 4 == 0) qs[e] = -128; // whole blocks of -128 in every third row
                }
                REQUIRE(sm::quant::dequantize_row(TensorType::Q8_0, row, w.deq.data() + static_cast<size_t>(r) * K, K));
            }
            std::vector<float> x = randn(static_cast<size_t>(M) * K, 92);
            for (size_t i = 0; i < x.size(); i += 7) x[i] = -4.0f; // strongly negative activations too
            Acts ar(kRefKernels, TensorType::Q8_0, x.data(), K, M, K), as(*k, TensorType::Q8_0, x.data(), K, M, K);
            std::vector<float> yr(static_cast<size_t>(M) * N), ys(yr.size());
            kRefKernels.matmul(w.matrix(), ar.p(), ar.rb, M, yr.data(), N, 0, N);
            k->matmul(w.matrix(), as.p(), as.rb, M, ys.data(), N, 0, N);
            const std::vector<double> xv = used_x(TensorType::Q8_0, ar, x, K, M, K);
            int bad = 0;
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++) {
                    double exact = 0, abs_sum = 0;
                    for (int kk = 0; kk < K; kk++) {
                        const double p = static_cast<double>(w.deq[static_cast<size_t>(n) * K + kk]) *
                                         xv[static_cast<size_t>(m) * K + kk];
                        exact += p;
                        abs_sum += std::fabs(p);
                    }
                    const double tol = sum_bound(rounds(TensorType::Q8_0, K), abs_sum);
                    const float s = ys[static_cast<size_t>(m) * N + n], r = yr[static_cast<size_t>(m) * N + n];
                    if (!(std::fabs(s - exact) <= tol) || !(std::fabs(r - exact) <= tol)) {
                        if (bad++ < 3) FAIL_CHECK("y[" << m << "][" << n << "] simd " << s << " ref " << r << " exact " << exact);
                    }
                }
            CHECK(bad == 0);
        }
}

// Kernels::rows8_types: the loader interleaves those weights by 8 rows (kernels.h's
// Layout::Rows8). Every M, and row ranges on 8-row boundaries as the thread split makes
// them, must give the plain layout's bits (which the tests above hold to the oracle).
TEST_CASE("matmul: the Rows8 layout gives the plain layout's bits", "[kernels]") {
    std::vector<const Kernels *> tabs = simd_tables();
    tabs.push_back(&kRefKernels);
    int covered = 0;
    for (const Kernels *k : tabs)
        for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_0}) {
            if (!sm::kern::wants_rows8(*k, t, 8, 32)) continue;
            covered++;
            for (const auto &nk :
                 {std::pair<int, int>{8, 32}, {16, 96}, {24, 288}, {72, 768}, {40, 64}, {24, 1056}, {16, 2080}}) {
                const int N = nk.first, K = nk.second;
                Weights w(t, N, K, 31 + N + K);
                if (t == TensorType::Q8_0) // -128 (files may hold it) in some blocks
                    for (int r = 0; r < N; r += 3) w.buf[w.off + w.rb * r + 2 + r % 32] = 0x80;
                // Off SIMD alignment, keeping the element (F32) or block (uint16 scale) one.
                const size_t o = t == TensorType::F32 ? 4 : 2;
                std::vector<uint8_t> il(w.rb * N + o);
                REQUIRE(sm::quant::interleave_rows8(t, w.buf.data() + w.off, il.data() + o, N, K));
                sm::kern::Matrix m8 = w.matrix();
                m8.layout = sm::kern::Layout::Rows8;
                m8.data = il.data() + o;
                for (int M : {1, 2, 3, 4, 5, 8, 13, 17, 64, 65}) {
                    INFO(k->name << " " << sm::type_name(static_cast<uint32_t>(t)) << " M=" << M << " N=" << N << " K=" << K);
                    std::vector<float> x = randn(static_cast<size_t>(M) * K, 77 + M);
                    Acts a(*k, t, x.data(), K, M, K);
                    std::vector<float> yp(static_cast<size_t>(M) * N, NAN), y8(yp.size(), NAN), ys(yp.size(), NAN);
                    k->matmul(w.matrix(), a.p(), a.rb, M, yp.data(), N, 0, N);
                    k->matmul(m8, a.p(), a.rb, M, y8.data(), N, 0, N);
                    CHECK(bits_equal(yp.data(), y8.data(), yp.size()));
                    for (int n0 = 0; n0 < N; n0 += 16) k->matmul(m8, a.p(), a.rb, M, ys.data(), N, n0, std::min(N, n0 + 16));
                    CHECK(bits_equal(yp.data(), ys.data(), yp.size()));
                }
                // Read back by row, the plain layout's values.
                std::vector<float> rp(K), r8(K);
                for (int r = 0; r < N; r++) {
                    k->get_row(w.matrix(), r, rp.data());
                    k->get_row(m8, r, r8.data());
                    if (!bits_equal(rp.data(), r8.data(), rp.size())) FAIL_CHECK("get_row " << r);
                }
            }
        }
    // Other types and row counts stay in the plain layout.
    std::vector<uint8_t> tmp(4096);
    CHECK_FALSE(sm::quant::interleave_rows8(TensorType::Q8_0, tmp.data(), tmp.data(), 12, 32));
    CHECK_FALSE(sm::quant::interleave_rows8(TensorType::Q4_K, tmp.data(), tmp.data(), 8, 256));
    CHECK_FALSE(sm::quant::interleave_rows8(TensorType::F32, tmp.data(), tmp.data(), 12, 32));
    CHECK_FALSE(sm::kern::wants_rows8(kRefKernels, TensorType::Q8_0, 8, 32));
    CHECK_FALSE(sm::kern::wants_rows8(1u << 8, TensorType::Q8_0, 12, 32)); // not whole 8-row groups
    if (covered == 0) WARN("no table here takes Rows8: only the plain layout was tested");
}

TEST_CASE("get_row: every table returns ggml's dequantization exactly", "[kernels]") {
    std::vector<const Kernels *> tabs = simd_tables();
    tabs.push_back(&kRefKernels);
    for (const Kernels *k : tabs)
        for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_0,
                             TensorType::Q4_K, TensorType::Q6_K}) {
            const int K = t == TensorType::Q4_K || t == TensorType::Q6_K ? 512 : 96;
            Weights w(t, 5, K, 9);
            std::vector<float> row(K);
            for (int r = 0; r < 5; r++) {
                k->get_row(w.matrix(), r, row.data());
                CHECK(bits_equal(row.data(), &w.deq[static_cast<size_t>(r) * K], K));
            }
        }
}
