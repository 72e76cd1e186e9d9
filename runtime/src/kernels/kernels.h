// The compute kernels, one table per instruction set, filled at compile time and picked
// once at runtime creation. Every table computes the same functions; ref/ is the scalar
// oracle the others are tested against.
//
// Determinism contract (the sessions' "same seed, same tokens for every slicing and
// thread count" rests on it): within one table, every output element is computed by the
// same sequence of floating-point operations whatever the batch size M, the row range
// [n0, n1) or the head range a call covers. Tables may differ from each other.
//
// Memory contract: kernels allocate nothing; they may use up to 64 KiB of stack (attention
// and the AVX-512 Q4_0 GEMM take about 20 KiB), so a host job system's fibers need
// stacks at least that deep.
//
// Limits every table assumes (the model loader enforces them): head_dim <= 512,
// n_sinks <= kAttnTile, quantized matrix data 2-byte aligned (GGUF aligns to 32).
#pragma once
#include "format/tensor_type.h"
#include "kernels/common/act.h"
#include "smallmind/smallmind.h"

#include <cstddef>
#include <cstdint>

namespace sm::kern {

// A weight matrix as stored in GGUF: `rows` rows of `cols` elements (ggml ne0 = cols),
// each row row_bytes long. For y = W x, rows is the output size N, cols the input K.
// How a matrix's rows are ordered in memory.
//   Rows:  GGUF's own layout, row after row.
//   Rows8: rows a multiple of 8 (quant::interleave_rows8). Each group of 8 rows keeps its
//          8 * row_bytes bytes, interleaved so one vector load serves all 8 rows:
//          F32 / F16 / BF16: element-interleaved, row j's column k at element 8 * k + j
//               of the group: a k-major panel (F32: the GEMM reads it in place).
//          Q8_0 / Q4_0: block-interleaved: per 32-column block b, the 8 rows' fp16
//               scales, then the quants as 32-byte vectors whose 4-byte lane j is row j's
//               bytes 4v..4v+3 (Q8_0: 8 vectors; Q4_0: 4 vectors of packed nibble
//               bytes). The products then need no cross-lane work and no scale gathering.
//          The loader uses it for the types the kernel table asks for
//          (Kernels::rows8_types); the embedding (looked up by row) only when it is tied
//          to the classifier.
enum class Layout : uint8_t { Rows, Rows8 };

struct Matrix {
    TensorType type = TensorType::F32;
    Layout layout = Layout::Rows;
    int32_t rows = 0, cols = 0;
    size_t row_bytes = 0; // of a row in the Rows layout (a Rows8 group: 8 * row_bytes)
    const void *data = nullptr;
    const uint8_t *row(int64_t r) const { return static_cast<const uint8_t *>(data) + r * static_cast<int64_t>(row_bytes); }
};

// Attention of a run of consecutive query positions of one session over its KV ring.
//
// The KV cache of one layer: n_kv_heads x n_slots positions. The first
// kv_sink_slots(n_sinks) slots hold the attention sinks (positions j < n_sinks); the other
// R = n_slots - kv_sink_slots(n_sinks) slots are a ring of window positions, R a multiple
// of kAttnTile:
//     slot(j) = j < n_sinks ? j : kv_sink_slots(n_sinks) + (j - n_sinks) % R
// Keys are stored in blocks of kKvBlock slots, d-major inside a block, so the keys of a
// tile load as vectors without a transpose (k_index below); values are plain rows:
//     V[(kv_head * n_slots + slot) * head_dim + d]
//
// A query at absolute position p sees
//   - all keys j <= p, scored with q, while p < n_sinks + window (nothing evicted yet);
//   - otherwise the sinks j < n_sinks, scored with q_sink, and the window
//     p - window < j <= p, scored with q.
// q is RoPE-rotated at p and keys at j, so window scores see the true distance p - j;
// q_sink is q rotated at n_sinks + window - 1 instead, so sinks sit just before the
// window as in StreamingLLM's "positions within the cache", without re-rotating keys.
//
// The softmax is computed online over key tiles: the sinks (j < n_sinks) form the first
// tile, then window keys go in tiles of kAttnTile aligned to n_sinks + multiples of
// kAttnTile (so each tile is kAttnTile contiguous, block-aligned slots). A query's result
// thus depends only on its position, never on which other queries share the call.
// exp() is never evaluated for keys a query cannot see.
constexpr int kAttnTile = 64;
constexpr int kKvBlock = 16;

inline int kv_sink_slots(int n_sinks) { return (n_sinks + kKvBlock - 1) / kKvBlock * kKvBlock; }

inline int64_t attn_slot(int64_t j, int n_sinks, int n_slots) {
    const int sink_slots = kv_sink_slots(n_sinks);
    return j < n_sinks ? j : sink_slots + (j - n_sinks) % (n_slots - sink_slots);
}

// Index of element d of the key in `slot` of KV head kvh.
inline int64_t k_index(int kvh, int64_t slot, int d, int head_dim, int n_slots) {
    return ((static_cast<int64_t>(kvh) * (n_slots / kKvBlock) + slot / kKvBlock) * head_dim + d) * kKvBlock + slot % kKvBlock;
}

// Keys and values are F32, or IEEE half (F16: half the cache memory and traffic; the
// kernels widen each element exactly, so an F16 cache gives every ISA the same bits).
struct AttnArgs {
    const float *q = nullptr;      // n_q rows of n_heads * head_dim, row stride ldq floats
    const float *q_sink = nullptr; // same layout (read only for queries past the window)
    int64_t ldq = 0;
    int n_q = 0;
    int64_t pos0 = 0;                              // query r sits at absolute position pos0 + r
    const float *k = nullptr;                      // blocked keys, see k_index()
    const float *v = nullptr;                      // v[(kv_head * n_slots + slot) * head_dim + d]
    const uint16_t *k16 = nullptr, *v16 = nullptr; // the same as F16, used instead when set
    int n_slots = 0, n_sinks = 0, window = 0;      // n_slots: sink slots + a ring, see above
    int n_heads = 0, n_kv_heads = 0, head_dim = 0;
    float scale = 1.0f;   // 1 / sqrt(head_dim)
    float *out = nullptr; // n_q rows of n_heads * head_dim, row stride ldo
    int64_t ldo = 0;
};

// Tables are built field by field (see the *_table.cpp files), never by position.
struct Kernels {
    sm_isa isa = SM_ISA_SCALAR;
    const char *name = nullptr;

    // ---- matrix products: y[m * ldy + n] = sum_k W[n][k] * x[m][k]
    // Inputs are "activations": rows of K floats converted into the format the weight
    // type's kernel wants (kernels/common/act.h); weights of different types share
    // converted rows when act_format() returns the same format.
    //
    // prepare_act converts rows [r0, r1) of a batch of M rows: x and act point at row 0
    // of the batch (rows ldx floats and act_row_bytes apart). The layout may depend on M
    // (ActFormat::Q8Grouped), never on the range: converting [0, M) in any partition of
    // ranges gives the same bytes as one call, and a call writes only its rows' bytes, so
    // threads and frame slices may convert disjoint ranges concurrently, at any row.
    // matmul then reads the whole batch, with the same M.
    // matmul computes the outputs n in [n0, n1); for a Layout::Rows8 matrix n0 must be a
    // multiple of 8 (the forward pass cuts tasks and slices on 16 rows).
    ActFormat (*act_format)(TensorType w);
    size_t (*act_row_bytes)(TensorType w, int K);
    void (*prepare_act)(TensorType w, const float *x, int64_t ldx, int M, int r0, int r1, int K, void *act);
    void (*matmul)(const Matrix &w, const void *act, size_t act_row_bytes, int M, float *y, int64_t ldy, int n0, int n1);

    // Row r of W as floats (embedding lookup), exactly GGUF's dequantization.
    void (*get_row)(const Matrix &w, int64_t r, float *out);

    // ---- element-wise
    // out = x * weight / sqrt(mean(x^2) + eps)
    void (*rmsnorm)(float *out, const float *x, const float *weight, int n, float eps);
    // Rotates adjacent pairs (x[2i], x[2i+1]) of each head by angle i: cs holds
    // head_dim/2 pairs (cos, sin), the same for every head.
    void (*rope)(float *x, int n_heads, int head_dim, const float *cs);
    // gate[i] = silu(gate[i]) * up[i]
    void (*swiglu)(float *gate, const float *up, int n);
    // y[i] += x[i]
    void (*add)(float *y, const float *x, int n);

    // ---- attention for heads [h0, h1) of every query row (see AttnArgs).
    void (*attention)(const AttnArgs &a, int h0, int h1);

    // Weight types (bit 1 << TensorType) whose matmul takes Layout::Rows8; 0 for none.
    uint32_t rows8_types = 0;
};

// Whether a rows x cols matrix of type t goes in Layout::Rows8 for these rows8_types
// (whole 8-row groups and 32-column blocks; quant::interleave_rows8 checks the type).
inline bool wants_rows8(uint32_t rows8_types, TensorType t, int64_t rows, int64_t cols) {
    return (rows8_types >> (static_cast<uint32_t>(t) & 31) & 1) && rows % 8 == 0 && cols % 32 == 0;
}
inline bool wants_rows8(const Kernels &k, TensorType t, int64_t rows, int64_t cols) {
    return wants_rows8(k.rows8_types, t, rows, cols);
}

// Row r of w as floats, in either layout (every table's get_row; kernels/matrix_row.cpp).
void matrix_row(const Matrix &w, int64_t r, float *out);

// The table for an instruction set, or nullptr when it was not compiled in.
const Kernels *kernels_for(sm_isa isa);

// Scalar reference table, always available.
extern const Kernels kRefKernels;

} // namespace sm::kern
