// The training products (kernels/train_kernels.h): each SIMD table against the scalar
// one and against double sums on odd shapes, and the same bits for any column split.
#include <catch2/catch.hpp>

#include "core/cpu.h"
#include "kernels/train_kernels.h"
#include "reference_double.h"

#include <vector>

TEST_CASE("train kernels: gemm_nn and gemm_tn against double sums, any column split", "[train][kernels]") {
    const sm::CpuFeatures f = sm::detect_cpu();
    std::vector<const sm::kern::TrainKernels *> tables = {&sm::kern::kRefTrainKernels};
    if (f.avx2 && f.fma) tables.push_back(sm::kern::train_kernels_for(SM_ISA_AVX2));
    if (f.avx512f) tables.push_back(sm::kern::train_kernels_for(SM_ISA_AVX512));
    for (const sm::kern::TrainKernels *t : tables)
        for (int M : {1, 7, 13}) {
            const int K = 300, N = 37; // K past one 256-row block, N past two panels
            INFO(t->name << ", M = " << M);
            const std::vector<float> A = trt::randf(static_cast<size_t>(M) * K, 31),
                                     B = trt::randf(static_cast<size_t>(K) * N, 32);
            std::vector<float> nn(static_cast<size_t>(M) * N), tn(nn.size()), part(nn.size());
            t->gemm_nn(A.data(), K, M, B.data(), N, K, nn.data(), N, 0, N);
            t->gemm_tn(A.data(), M, M, B.data(), N, K, tn.data(), N, 0, N); // A read as K x M
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++) {
                    double snn = 0, stn = 0;
                    for (int k = 0; k < K; k++) {
                        snn += static_cast<double>(A[m * K + k]) * B[k * N + n];
                        stn += static_cast<double>(A[k * M + m]) * B[k * N + n];
                    }
                    CHECK(nn[m * N + n] == Approx(snn).margin(1e-3));
                    CHECK(tn[m * N + n] == Approx(stn).margin(1e-3));
                }
            // columns in three uneven pieces: the same bits
            t->gemm_nn(A.data(), K, M, B.data(), N, K, part.data(), N, 0, 5);
            t->gemm_nn(A.data(), K, M, B.data(), N, K, part.data(), N, 5, 21);
            t->gemm_nn(A.data(), K, M, B.data(), N, K, part.data(), N, 21, N);
            CHECK(part == nn);
            t->gemm_tn(A.data(), M, M, B.data(), N, K, part.data(), N, 0, 16);
            t->gemm_tn(A.data(), M, M, B.data(), N, K, part.data(), N, 16, N);
            CHECK(part == tn);
        }
}
