// The trainer's products (train/matmul.h) over the thread pool: parts one block wide split
// over rows, the same bits at any thread count, and right against double sums.
#include <catch2/catch.hpp>

#include "core/cpu.h"
#include "core/parallel.h"
#include "kernels/tables.h"
#include "reference_double.h"
#include "train/matmul.h"

#include <vector>

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
        // accumulating (a second micro-batch): dW += the same product, exactly twice it
        std::vector<float> acc = dw, scratch(dw.size());
        for (int k0 = 0; k0 < K; k0 += 16)
            sm::train::matmul_backward(c, nullptr, K, acc.data(), true, dy.data(), N, x.data(), K, W.data(), M, N, K,
                                       sm::train::MatmulScratch{scratch.data()}, k0, k0 + 16 < K ? k0 + 16 : K);
        pool.stop();
        INFO(threads << " threads");
        for (size_t i = 0; i < dw.size(); i++) REQUIRE(acc[i] == 2.0f * dw[i]);
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
