// The training products (kernels/train_kernels.h): each SIMD table against the scalar
// one and against double sums on odd shapes, and the same bits for any column split.
#include <catch2/catch.hpp>

#include "core/cpu.h"
#include "core/parallel.h"
#include "kernels/tables.h"
#include "kernels/train_kernels.h"
#include "train/matmul.h"
#include "reference_double.h"
#include "train_tables.h"

#include <vector>

TEST_CASE("train kernels: gemm_nn and gemm_tn against double sums, any column split", "[train][kernels]") {
    for (const sm::kern::TrainKernels *t : trt::runnable_train_tables())
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

TEST_CASE("train kernels: swiglu forward and backward against the scalar table, odd sizes, any row split", "[train][kernels]") {
    const std::vector<const sm::kern::TrainKernels *> tables = trt::runnable_train_tables(false);
    const sm::kern::TrainKernels &ref = sm::kern::kRefTrainKernels;
    for (const sm::kern::TrainKernels *t : tables)
        for (int H : {1, 3, 17, 63, 100}) {
            const int rows = 5;
            INFO(t->name << ", hidden = " << H);
            // one float past the start: no row is aligned
            std::vector<float> h13 = trt::randf(static_cast<size_t>(rows) * 2 * H + 1, 41, 6.0f),
                               dout = trt::randf(static_cast<size_t>(rows) * H + 1, 42);
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

TEST_CASE("train matmul: backward parts one block wide split over rows, the same bits at 1 to 4 threads", "[train][kernels]") {
    const sm::CpuFeatures f = sm::detect_cpu();
    const sm_isa isa = sm::best_isa(f);
    const int M = 150, N = 70, K = 45; // dy: M x N, x: M x K, W: N x K
    const std::vector<float> dy = trt::randf(static_cast<size_t>(M) * N, 51), x = trt::randf(static_cast<size_t>(M) * K, 52),
                             W = trt::randf(static_cast<size_t>(N) * K, 53);
    std::vector<float> dx1, dw1;
    for (int threads : {1, 2, 3, 4}) {
        sm::ThreadPool pool;
        pool.start(threads - 1);
        sm::Parallel par;
        par.use_pool(&pool);
        sm::train::Compute c{sm::kern::kernels_for(isa, f), &par, sm::kern::train_kernels_for(isa)};
        std::vector<float> dx(static_cast<size_t>(M) * K), dw(static_cast<size_t>(N) * K);
        // in parts of one 16-column block (the last one 13 wide), as a sliced step runs them
        for (int k0 = 0; k0 < K; k0 += 16)
            sm::train::matmul_backward(c, dx.data(), K, dw.data(), false, dy.data(), N, x.data(), K, W.data(), M, N, K,
                                       sm::train::MatmulScratch{}, k0, k0 + 16 < K ? k0 + 16 : K);
        pool.stop();
        INFO(threads << " threads");
        if (threads == 1) {
            dx1 = dx, dw1 = dw;
            for (int t = 0; t < 8; t++) { // and right: sampled against double sums
                const int m = (t * 37) % M, n = (t * 11) % N, k = (t * 7) % K;
                double sx = 0, sw = 0;
                for (int j = 0; j < N; j++) sx += static_cast<double>(dy[m * N + j]) * W[j * K + k];
                for (int r = 0; r < M; r++) sw += static_cast<double>(dy[r * N + n]) * x[r * K + k];
                CHECK(dx[m * K + k] == Approx(sx).margin(1e-3));
                CHECK(dw[n * K + k] == Approx(sw).margin(1e-3));
            }
        } else {
            CHECK(dx == dx1);
            CHECK(dw == dw1);
        }
    }
}
