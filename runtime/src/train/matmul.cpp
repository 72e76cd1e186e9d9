#include "train/matmul.h"

namespace sm::train {

void transpose(float *dst, int64_t ldd, const float *src, int64_t lds, int R, int C) {
    constexpr int B = 32; // tiles that stay in L1 on both sides
    for (int r0 = 0; r0 < R; r0 += B)
        for (int c0 = 0; c0 < C; c0 += B) {
            const int r1 = r0 + B < R ? r0 + B : R, c1 = c0 + B < C ? c0 + B : C;
            for (int r = r0; r < r1; r++)
                for (int cc = c0; cc < c1; cc++) dst[cc * ldd + r] = src[r * lds + cc];
        }
}

namespace {

// Output columns go in tasks of whole 16-column blocks (the widest kernel panel).
struct GemmJob {
    const kern::Kernels *k;
    kern::Matrix w;
    const float *x;
    int64_t ldx;
    int M;
    float *y;
    int64_t ldy;
    int n_tasks, blocks;
};

void gemm_task(void *p, int t) {
    const GemmJob &j = *static_cast<const GemmJob *>(p);
    const int b0 = static_cast<int>(static_cast<int64_t>(j.blocks) * t / j.n_tasks);
    const int b1 = static_cast<int>(static_cast<int64_t>(j.blocks) * (t + 1) / j.n_tasks);
    const int n0 = b0 * 16, n1 = b1 * 16 < j.w.rows ? b1 * 16 : j.w.rows;
    if (n0 < n1) j.k->matmul(j.w, j.x, static_cast<size_t>(j.ldx) * sizeof(float), j.M, j.y, j.ldy, n0, n1);
}

// y[M][N] = x . Wm^T for Wm with N rows of K floats (row stride K).
void gemm(const Compute &c, float *y, int64_t ldy, const float *x, int64_t ldx, const float *Wm, int M, int N, int K) {
    GemmJob j;
    j.k = c.k;
    j.w.type = TensorType::F32;
    j.w.layout = kern::Layout::Rows;
    j.w.rows = N;
    j.w.cols = K;
    j.w.row_bytes = static_cast<size_t>(K) * sizeof(float);
    j.w.data = Wm;
    j.x = x;
    j.ldx = ldx;
    j.M = M;
    j.y = y;
    j.ldy = ldy;
    j.blocks = (N + 15) / 16;
    const int width = c.par ? c.par->width() : 1;
    // Enough tasks to balance, few enough that each still fills the kernel's tiles.
    int tasks = width > 1 ? width * 2 : 1;
    if (tasks > j.blocks) tasks = j.blocks;
    j.n_tasks = tasks;
    if (tasks == 1 || !c.par) {
        for (int t = 0; t < tasks; t++) gemm_task(&j, t);
    } else {
        c.par->run(gemm_task, &j, tasks);
    }
}

} // namespace

void matmul_forward(const Compute &c, float *y, int64_t ldy, const float *x, int64_t ldx, const float *W, int M, int N, int K) {
    gemm(c, y, ldy, x, ldx, W, M, N, K);
}

void matmul_backward(const Compute &c, float *dx, int64_t lddx, float *dW, bool accumulate, const float *dy, int64_t lddy,
                     const float *x, int64_t ldx, const float *W, int M, int N, int K, const MatmulScratch &s) {
    if (dx) {
        transpose(s.wt, N, W, K, N, K); // W^T: K rows of N
        gemm(c, dx, lddx, dy, lddy, s.wt, M, K, N);
    }
    transpose(s.dyt, M, dy, lddy, M, N); // N rows of M
    transpose(s.xt, M, x, ldx, M, K);    // K rows of M
    float *out = accumulate ? s.dw : dW;
    gemm(c, out, K, s.dyt, M, s.xt, N, K, M);
    if (accumulate) {
        const int64_t n = static_cast<int64_t>(N) * K;
        for (int64_t i = 0; i < n; i++) dW[i] += s.dw[i];
    }
}

} // namespace sm::train
