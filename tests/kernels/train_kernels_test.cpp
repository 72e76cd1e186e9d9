// The train kernel tables (kernels/train_kernels.h): the products against double sums on
// odd shapes with the same bits for any column split, and the element-wise ops against
// the scalar table on odd sizes and unaligned rows, with the same bits for any row split.
#include <catch2/catch.hpp>

#include "kernel_test_util.h"
#include "train_tables.h"

namespace {
std::vector<float> rnd(size_t n, uint32_t seed, float scale = 1.0f) { return kt::randn(n, seed, scale); }
} // namespace

#include <vector>

TEST_CASE("train kernels: gemm_nn and gemm_tn against double sums, any column split", "[train][kernels]") {
    for (const sm::kern::TrainKernels *t : trt::runnable_train_tables())
        for (int M : {1, 7, 13}) {
            const int K = 300, N = 37; // K past one 256-row block, N past two panels
            INFO(t->name << ", M = " << M);
            const std::vector<float> A = rnd(static_cast<size_t>(M) * K, 31), B = rnd(static_cast<size_t>(K) * N, 32);
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

TEST_CASE("train kernels: swiglu forward and backward against the scalar table, odd sizes, any row split", "[train][kernels]") {
    const std::vector<const sm::kern::TrainKernels *> tables = trt::runnable_train_tables(false);
    const sm::kern::TrainKernels &ref = sm::kern::kRefTrainKernels;
    for (const sm::kern::TrainKernels *t : tables)
        for (int H : {1, 3, 17, 63, 100}) {
            const int rows = 5;
            INFO(t->name << ", hidden = " << H);
            // one float past the start: no row is aligned
            std::vector<float> h13 = rnd(static_cast<size_t>(rows) * 2 * H + 1, 41, 6.0f),
                               dout = rnd(static_cast<size_t>(rows) * H + 1, 42);
            h13[1] = 100.0f, h13[2] = -100.0f; // far tails of the sigmoid
            const float *h = h13.data() + 1, *d = dout.data() + 1;
            std::vector<float> o(static_cast<size_t>(rows) * H + 1), ro(o.size()), part(o.size());
            std::vector<float> dh(static_cast<size_t>(rows) * 2 * H + 1), rdh(dh.size()), dpart(dh.size());
            t->swiglu_forward(o.data() + 1, h, rows, H);
            ref.swiglu_forward(ro.data() + 1, h, rows, H);
            t->swiglu_backward(dh.data() + 1, d, h, rows, H);
            ref.swiglu_backward(rdh.data() + 1, d, h, rows, H);
            for (size_t i = 1; i < o.size(); i++) CHECK(o[i] == Approx(ro[i]).epsilon(1e-6).margin(1e-6));
            for (size_t i = 1; i < dh.size(); i++) CHECK(dh[i] == Approx(rdh[i]).epsilon(1e-6).margin(1e-6));
            // rows in two pieces: the same bits
            t->swiglu_forward(part.data() + 1, h, 2, H);
            t->swiglu_forward(part.data() + 1 + 2 * H, h + 4 * H, rows - 2, H);
            CHECK(part == o);
            t->swiglu_backward(dpart.data() + 1, d, h, 3, H);
            t->swiglu_backward(dpart.data() + 1 + 6 * H, d + 3 * H, h + 6 * H, rows - 3, H);
            CHECK(dpart == dh);
        }
}
