#include "train/matmul.h"

namespace sm::train {

namespace {

// Tasks per thread of a product: the pool hands them out as threads come free, so more
// than one each evens out a late thread; the tail of every part still waits on the last.
constexpr int kTasksPerThread = 4;

// Output columns go in tasks of whole 16-column blocks (the widest kernel panel).
struct GemmJob {
    const kern::Kernels *k;
    kern::Matrix w;
    const float *x;
    int64_t ldx;
    int M;
    float *y;
    int64_t ldy;
    int n_tasks, blocks, c0, c1; // columns [c0, c1) in blocks of 16 from c0
    const float *residual;       // not null: y += residual (row stride ldy) after the product
};

void gemm_task(void *p, int t) {
    const GemmJob &j = *static_cast<const GemmJob *>(p);
    const int b0 = static_cast<int>(static_cast<int64_t>(j.blocks) * t / j.n_tasks);
    const int b1 = static_cast<int>(static_cast<int64_t>(j.blocks) * (t + 1) / j.n_tasks);
    const int n0 = j.c0 + b0 * 16, n1 = j.c0 + b1 * 16 < j.c1 ? j.c0 + b1 * 16 : j.c1;
    if (n0 >= n1) return;
    j.k->matmul(j.w, j.x, static_cast<size_t>(j.ldx) * sizeof(float), j.M, j.y, j.ldy, n0, n1);
    if (j.residual)
        for (int64_t m = 0; m < j.M; m++)
            for (int64_t n = n0; n < n1; n++) j.y[m * j.ldy + n] += j.residual[m * j.ldy + n];
}

// y[M][N] = x . Wm^T for Wm with N rows of K floats (row stride K).
void gemm(const Compute &c, float *y, int64_t ldy, const float *x, int64_t ldx, const float *Wm, int M, int N, int K, int c0,
          int c1, const float *residual) {
    GemmJob j;
    j.residual = residual;
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
    j.c0 = c0;
    j.c1 = c1;
    j.blocks = (c1 - c0 + 15) / 16;
    if (j.blocks <= 0 || M <= 0) return;
    const int width = c.par ? c.par->width() : 1;
    // Enough tasks to balance, few enough that each still fills the kernel's tiles.
    int tasks = width > 1 ? width * kTasksPerThread : 1;
    if (tasks > j.blocks) tasks = j.blocks;
    j.n_tasks = tasks;
    if (tasks == 1 || !c.par) {
        for (int t = 0; t < tasks; t++) gemm_task(&j, t);
    } else {
        c.par->run(gemm_task, &j, tasks);
    }
}

struct TrainGemmJob {
    kern::TrainGemmFn fn;
    bool a_transposed; // A stored K x M (gemm_tn): rows of C are columns of A
    const float *A;
    int64_t lda;
    int M;
    const float *B;
    int64_t ldb;
    int K;
    float *C;
    int64_t ldc;
    int c0, c1, blocks, col_tasks, row_tasks;
    float *add_to; // not null: then add_to += C over the task's block (gradient accumulation)
    int tasks() const { return col_tasks * row_tasks; }
};

void train_gemm_task(const TrainGemmJob &j, int t) {
    const int ct = t % j.col_tasks, rt = t / j.col_tasks;
    const int b0 = static_cast<int>(static_cast<int64_t>(j.blocks) * ct / j.col_tasks);
    const int b1 = static_cast<int>(static_cast<int64_t>(j.blocks) * (ct + 1) / j.col_tasks);
    const int n0 = j.c0 + b0 * 16, n1 = j.c0 + b1 * 16 < j.c1 ? j.c0 + b1 * 16 : j.c1;
    // rows in multiples of 8 (whole register tiles of 4, 6 or 8 rows mostly)
    const int units = (j.M + 7) / 8;
    const int m0 = static_cast<int>(static_cast<int64_t>(units) * rt / j.row_tasks) * 8;
    int m1 = static_cast<int>(static_cast<int64_t>(units) * (rt + 1) / j.row_tasks) * 8;
    if (m1 > j.M) m1 = j.M;
    if (n0 >= n1 || m0 >= m1) return;
    const float *A = j.a_transposed ? j.A + m0 : j.A + static_cast<int64_t>(m0) * j.lda;
    j.fn(A, j.lda, m1 - m0, j.B, j.ldb, j.K, j.C + static_cast<int64_t>(m0) * j.ldc, j.ldc, n0, n1);
    if (j.add_to)
        for (int64_t m = m0; m < m1; m++)
            for (int64_t n = n0; n < n1; n++) j.add_to[m * j.ldc + n] += j.C[m * j.ldc + n];
}

// Tasks of C[M][c0, c1): columns in whole 16-column blocks, and rows when there are
// fewer blocks than tasks wanted (a backward part can be one block wide: w13's dx and
// dW at dim 288, where column tasks alone left the second thread idle). Every element is
// still one kernel chain, so the bits do not depend on the split.
TrainGemmJob plan_gemm(const Compute &c, kern::TrainGemmFn fn, bool a_transposed, const float *A, int64_t lda, int M,
                       const float *B, int64_t ldb, int K, float *C, int64_t ldc, int c0, int c1, float *add_to) {
    TrainGemmJob j{fn, a_transposed, A, lda, M, B, ldb, K, C, ldc, c0, c1, (c1 - c0 + 15) / 16, 1, 1, add_to};
    if (c1 <= c0 || M <= 0) j.blocks = j.col_tasks = j.row_tasks = 0; // nothing to do
    const int width = c.par ? c.par->width() : 1;
    if (width > 1 && j.blocks > 0) {
        const int tasks = width * kTasksPerThread;
        j.col_tasks = tasks < j.blocks ? tasks : j.blocks;
        const int rows_wanted = tasks / j.col_tasks, most = (M + 31) / 32; // slices of at least 32 rows
        j.row_tasks = rows_wanted < most ? rows_wanted : most;
        if (j.row_tasks < 1) j.row_tasks = 1;
    }
    return j;
}

// A backward's two products (dx, then dW) as one hand-off to the pool: one wait for the
// slowest task instead of two.
struct BackwardJob {
    TrainGemmJob dx, dw;
};

void backward_task(void *p, int t) {
    const BackwardJob &j = *static_cast<const BackwardJob *>(p);
    if (t < j.dx.tasks()) train_gemm_task(j.dx, t);
    else train_gemm_task(j.dw, t - j.dx.tasks());
}

} // namespace

void matmul_forward(const Compute &c, float *y, int64_t ldy, const float *x, int64_t ldx, const float *W, int M, int N, int K,
                    int n0, int n1, const float *residual) {
    gemm(c, y, ldy, x, ldx, W, M, N, K, n0, n1 < 0 ? N : n1, residual);
}

void matmul_backward(const Compute &c, float *dx, int64_t lddx, float *dW, bool accumulate, const float *dy, int64_t lddy,
                     const float *x, int64_t ldx, const float *W, int M, int N, int K, const MatmulScratch &s, int k0, int k1) {
    if (k1 < 0) k1 = K;
    BackwardJob j;
    j.dx = plan_gemm(c, c.tk->gemm_nn, false, dy, lddy, M, W, K, N, dx, lddx, k0, dx ? k1 : k0, nullptr);
    // accumulating: the product goes to scratch, and each task adds its block to dW
    j.dw = plan_gemm(c, c.tk->gemm_tn, true, dy, lddy, N, x, ldx, M, accumulate ? s.dw : dW, K, k0, k1,
                     accumulate ? dW : nullptr);
    const int n = j.dx.tasks() + j.dw.tasks();
    if (!c.par || n <= 1)
        for (int t = 0; t < n; t++) backward_task(&j, t);
    else c.par->run(backward_task, &j, n);
}

} // namespace sm::train
