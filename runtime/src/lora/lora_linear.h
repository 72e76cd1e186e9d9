// A LoRA linear layer for training: y = W x + s * B (A x) over a frozen base W of any
// weight type and layout the loader gives (kern::Matrix), with A (rank x K) and B
// (N x rank) trainable F32 rows. The forward runs the same kernel calls in the same order
// as the inference pass (infer/forward.cpp: base matmul, then t = A x, t *= s, B t added),
// so a model trained with it computes exactly the logits inference gives.
//
// The backward never makes an F32 copy of W: dx = dy W dequantizes NT rows of W at a
// time (k.get_row, either layout) into a transposed tile and multiplies it with the
// table's F32 product. Every sum has a fixed order (tiles in ascending order, each a
// kernel chain over a fixed range), and tasks split only the rows of an output, so the
// bits never depend on the thread count or the split. Nothing allocates: all scratch
// comes from the caller's workspace (workspace_bytes says how much).
#pragma once
#include "core/error.h"
#include "core/parallel.h"
#include "kernels/kernels.h"

#include <cstddef>
#include <cstdint>

namespace sm::lora {

struct Linear {
    kern::Matrix w;           // frozen base: N = w.rows outputs of K = w.cols inputs
    const float *a = nullptr; // rank rows of K
    const float *b = nullptr; // N rows of rank
    int rank = 0;       // 0: a frozen linear (y = W x; the backward gives dx only)
    float scale = 1.0f; // s (alpha / rank, or alpha / sqrt(rank) for rsLoRA)
};

// Gradients, added to what the buffers hold (so several batches can accumulate);
// a null pointer skips that gradient. dx is written (or added to with dx_accumulate,
// e.g. for q, k and v that read the same input), rows lddx floats apart.
struct LinearGrads {
    float *da = nullptr; // rank rows of K
    float *db = nullptr; // N rows of rank
    float *dx = nullptr; // M rows of K
    int64_t lddx = 0;
    bool dx_accumulate = false;
};

// Caller-owned scratch: at least workspace_bytes(...) bytes for the same shape and at
// most max_tasks tasks (calls use min(par width, max_tasks) of them).
struct Workspace {
    void *data = nullptr;
    size_t bytes = 0;
    int max_tasks = 1;
};

// Bytes a forward or backward of M rows through an N x K base of type wtype with this
// rank needs on table k, with up to max_tasks tasks.
size_t workspace_bytes(const kern::Kernels &k, TensorType wtype, int M, int N, int K, int rank, int max_tasks);

// y[M][N] (rows ldy apart) = W x + s * B t, with t = s * (A x) written to t (M rows of
// rank, saved for the backward: the scaled value, which the forward multiplies B by).
// x: M rows of K, ldx apart. par may be null (the calling thread does everything).
// Outputs must not overlap the inputs.
sm_status linear_forward(const kern::Kernels &k, const Parallel *par, const Linear &l, const float *x, int64_t ldx, int M,
                         float *y, int64_t ldy, float *t, const Workspace &ws, Error &err);

// Given dy[M][N] (rows lddy apart) and the forward's x and t:
//   db += dy^T t        (= s dy^T (A x))
//   u   = s * dy B      (M x rank)
//   da += u^T x
//   dx  = dy W + u A    (dy W through the frozen base, dequantized a tile at a time)
sm_status linear_backward(const kern::Kernels &k, const Parallel *par, const Linear &l, const float *x, int64_t ldx,
                          const float *t, const float *dy, int64_t lddy, int M, const LinearGrads &g, const Workspace &ws,
                          Error &err);

} // namespace sm::lora
