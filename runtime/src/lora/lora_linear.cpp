#include "lora/lora_linear.h"
#include "core/bump.h"
#include "quant/quant.h"

#include <cstring>

namespace sm::lora {

namespace {

constexpr int kChunkRows = 64; // rows of x / dy one product call takes (bounds the per-task output buffer)
constexpr int kTileRows = 128; // W rows dequantized at a time; also rows per transposed tile of dy or x
constexpr int kBaseUnit = 16;  // base matmul tasks start on 16 rows (Rows8 weights need whole 8-row groups)
constexpr size_t kAlign = 64;

// Where each buffer sits in the workspace (byte offsets from its 64-byte aligned start).
struct Plan {
    size_t act = 0, act_bytes = 0; // the base's converted activations (none for float weights)
    size_t bt = 0, at = 0;         // B^T (rank x N), A^T (K x rank)
    size_t u = 0, st = 0, ut = 0;  // u (M x rank), t^T and u^T (rank x M)
    size_t slots = 0, slot_bytes = 0;
    size_t total = 0;
};

size_t fbytes(int64_t n) { return static_cast<size_t>(n) * sizeof(float); }

Plan make_plan(const kern::Kernels &k, TensorType wt, int M, int N, int K, int R, int max_tasks) {
    Plan p;
    size_t off = 0;
    auto take = [&](size_t bytes) {
        const size_t at = off;
        off = align_up(off + bytes, kAlign);
        return at;
    };
    if (k.act_format(wt) != kern::ActFormat::Floats) {
        p.act_bytes = static_cast<size_t>(M) * k.act_row_bytes(wt, K);
        p.act = take(p.act_bytes);
    }
    p.bt = take(fbytes(static_cast<int64_t>(R) * N));
    p.at = take(fbytes(static_cast<int64_t>(K) * R));
    p.u = take(fbytes(static_cast<int64_t>(M) * R));
    p.st = take(fbytes(static_cast<int64_t>(R) * M));
    p.ut = take(fbytes(static_cast<int64_t>(R) * M));
    // One slot per task, the largest any phase needs: the forward's B t rows; a
    // transposed tile of dy or x and its product; dx's dequantized W rows, their W^T
    // tile and the product rows.
    const int64_t fwd = static_cast<int64_t>(kChunkRows) * N;
    const int64_t tr = static_cast<int64_t>(kTileRows) * M + static_cast<int64_t>(kTileRows) * R;
    const int64_t dx = 2 * static_cast<int64_t>(K) * kTileRows + static_cast<int64_t>(kChunkRows) * K;
    int64_t slot = fwd > tr ? fwd : tr;
    slot = slot > dx ? slot : dx;
    p.slot_bytes = align_up(fbytes(slot), kAlign);
    p.slots = off;
    p.total = off + p.slot_bytes * static_cast<size_t>(max_tasks) + kAlign; // + aligning the start
    return p;
}

uint8_t *aligned(void *data) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(data);
    return reinterpret_cast<uint8_t *>((a + kAlign - 1) & ~static_cast<uintptr_t>(kAlign - 1));
}

kern::Matrix f32_matrix(const float *data, int rows, int cols) {
    kern::Matrix m;
    m.type = TensorType::F32;
    m.layout = kern::Layout::Rows;
    m.rows = rows;
    m.cols = cols;
    m.row_bytes = fbytes(cols);
    m.data = data;
    return m;
}

int task_count(const Parallel *par, int cap, int units) {
    int n = par ? par->width() : 1;
    if (n > cap) n = cap;
    if (n > units) n = units;
    return n < 1 ? 1 : n;
}

// f(task, u0, u1) over [0, units) cut into n_tasks contiguous ranges. Each output's value
// never depends on which range it fell in (the callers' sums have fixed orders).
template <class F> void split(const Parallel *par, int n_tasks, int units, const F &f) {
    if (units <= 0) return;
    if (n_tasks <= 1 || !par) {
        f(0, 0, units);
        return;
    }
    struct Job {
        const F *f;
        int n, units;
    } job{&f, n_tasks, units};
    par->run(
        [](void *ctx, int t) {
            const Job &j = *static_cast<const Job *>(ctx);
            const int u0 = static_cast<int>(static_cast<int64_t>(j.units) * t / j.n);
            const int u1 = static_cast<int>(static_cast<int64_t>(j.units) * (t + 1) / j.n);
            if (u0 < u1) (*j.f)(t, u0, u1);
        },
        &job, n_tasks);
}

// dst[c * ldd + r] = src[r * lds + c] (add: +=), in 8 x 8 blocks so both sides stay in a
// few cache lines. Plain locals and restrict: the build's -fno-strict-aliasing would
// otherwise reload every bound after each store.
template <bool Add>
void transpose_t(const float *__restrict src, int64_t lds, int rows, int cols, float *__restrict dst, int64_t ldd) {
    for (int r0 = 0; r0 < rows; r0 += 8) {
        const int r1 = rows - r0 < 8 ? rows : r0 + 8;
        for (int c0 = 0; c0 < cols; c0 += 8) {
            const int c1 = cols - c0 < 8 ? cols : c0 + 8;
            for (int r = r0; r < r1; r++)
                for (int c = c0; c < c1; c++) {
                    if (Add) dst[c * ldd + r] += src[r * lds + c];
                    else dst[c * ldd + r] = src[r * lds + c];
                }
        }
    }
}
void transpose(const float *src, int64_t lds, int rows, int cols, float *dst, int64_t ldd) {
    transpose_t<false>(src, lds, rows, cols, dst, ldd);
}
void add_transposed(const float *src, int64_t lds, int rows, int cols, float *dst, int64_t ldd) {
    transpose_t<true>(src, lds, rows, cols, dst, ldd);
}

void scale(float *__restrict v, int64_t n, float s) {
    for (int64_t i = 0; i < n; i++) v[i] *= s;
}

// nb rows of K floats as the K x nb F32 matrix W^T: plain rows (a transpose), or Rows8
// (row kk's column r at element 8 r + kk % 8 of group kk / 8: 8 floats copied at a time).
void pack_wt(const float *rows, int nb, int K, bool rows8, float *tile) {
    if (!rows8) return transpose(rows, K, nb, K, tile, nb);
    for (int r = 0; r < nb; r++)
        for (int gk = 0; gk < K / 8; gk++)
            memcpy(tile + static_cast<int64_t>(gk) * 8 * nb + 8 * r, rows + static_cast<int64_t>(r) * K + gk * 8,
                   8 * sizeof(float));
}

sm_status check(const kern::Kernels &k, const Linear &l, const float *x, int64_t ldx, int M, const Workspace &ws, Error &err) {
    const kern::Matrix &w = l.w;
    if (!quant::type_convertible(w.type)) // the base is read by dequantizing rows
        return err.set(SM_ERR_UNSUPPORTED, "lora linear: base type %s is not supported",
                       type_name(static_cast<uint32_t>(w.type)));
    if (!w.data || w.rows < 1 || w.cols < 1 || w.row_bytes != row_bytes(w.type, w.cols))
        return err.set(SM_ERR_INVALID_ARGUMENT, "lora linear: base matrix %d x %d of %s is not a valid matrix", w.rows, w.cols,
                       type_name(static_cast<uint32_t>(w.type)));
    if (w.layout == kern::Layout::Rows8 && (w.rows % 8 || w.cols % 32))
        return err.set(SM_ERR_INVALID_ARGUMENT,
                       "lora linear: a Rows8 base needs whole 8-row groups and 32-column blocks (%d x %d)", w.rows, w.cols);
    if (l.rank < 0 || (l.rank > 0 && (!l.a || !l.b)))
        return err.set(SM_ERR_INVALID_ARGUMENT, "lora linear: rank %d, or A or B missing", l.rank);
    if (M < 1 || !x || ldx < w.cols)
        return err.set(SM_ERR_INVALID_ARGUMENT, "lora linear: %d rows of x, row stride %lld < K %d", M,
                       static_cast<long long>(ldx), w.cols);
    if (!ws.data || ws.max_tasks < 1) return err.set(SM_ERR_INVALID_ARGUMENT, "lora linear: no workspace");
    const size_t need = workspace_bytes(k, w.type, M, w.rows, w.cols, l.rank, ws.max_tasks);
    if (ws.bytes < need)
        return err.set(SM_ERR_BUDGET, "lora linear: workspace of %zu bytes, %zu needed for %d rows", ws.bytes, need, M);
    return SM_OK;
}

} // namespace

size_t workspace_bytes(const kern::Kernels &k, TensorType wtype, int M, int N, int K, int rank, int max_tasks) {
    if (M < 1 || N < 1 || K < 1 || rank < 0 || max_tasks < 1) return 0;
    return make_plan(k, wtype, M, N, K, rank, max_tasks).total;
}

sm_status linear_forward(const kern::Kernels &k, const Parallel *par, const Linear &l, const float *x, int64_t ldx, int M,
                         float *y, int64_t ldy, float *t, const Workspace &ws, Error &err) {
    SM_TRY(check(k, l, x, ldx, M, ws, err));
    const int N = l.w.rows, K = l.w.cols, R = l.rank;
    if (!y || (R > 0 && !t) || ldy < N)
        return err.set(SM_ERR_INVALID_ARGUMENT, "lora linear: y or t missing, or row stride of y < N %d", N);
    const Plan p = make_plan(k, l.w.type, M, N, K, R, ws.max_tasks);
    uint8_t *base = aligned(ws.data);
    const Parallel::Hold hold(par); // workers keep spinning between the phases' hand-offs

    // The base product, as the inference pass runs it: activations converted (any row
    // ranges give the same bytes), then the table's matmul on ranges of 16 output rows.
    const void *act = x;
    size_t arb = fbytes(ldx);
    if (p.act_bytes) {
        void *buf = base + p.act;
        arb = k.act_row_bytes(l.w.type, K);
        split(par, task_count(par, M, M), M, [&](int, int r0, int r1) { k.prepare_act(l.w.type, x, ldx, M, r0, r1, K, buf); });
        act = buf;
    }
    const int units = (N + kBaseUnit - 1) / kBaseUnit;
    split(par, task_count(par, units, units), units, [&](int, int u0, int u1) {
        const int n1 = u1 * kBaseUnit < N ? u1 * kBaseUnit : N;
        k.matmul(l.w, act, arb, M, y, ldy, u0 * kBaseUnit, n1);
    });

    if (R == 0) return SM_OK; // a frozen linear: the base alone
    // y += B (s * A x), the inference pass's lora_deltas: t = A x, t *= s, then B t added.
    const kern::Matrix A = f32_matrix(l.a, R, K), B = f32_matrix(l.b, N, R);
    const float s = l.scale;
    const int chunks = (M + kChunkRows - 1) / kChunkRows;
    split(par, task_count(par, ws.max_tasks, chunks), chunks, [&](int task, int c0, int c1) {
        float *o = reinterpret_cast<float *>(base + p.slots + p.slot_bytes * static_cast<size_t>(task));
        for (int c = c0; c < c1; c++) {
            const int m0 = c * kChunkRows, mc = M - m0 < kChunkRows ? M - m0 : kChunkRows;
            float *tt = t + static_cast<int64_t>(m0) * R;
            k.matmul(A, x + m0 * ldx, fbytes(ldx), mc, tt, R, 0, R);
            scale(tt, static_cast<int64_t>(mc) * R, s);
            k.matmul(B, tt, fbytes(R), mc, o, N, 0, N);
            for (int r = 0; r < mc; r++) k.add(y + (m0 + r) * ldy, o + static_cast<int64_t>(r) * N, N);
        }
    });
    return SM_OK;
}

sm_status linear_backward(const kern::Kernels &k, const Parallel *par, const Linear &l, const float *x, int64_t ldx,
                          const float *t, const float *dy, int64_t lddy, int M, const LinearGrads &grads, const Workspace &ws,
                          Error &err) {
    SM_TRY(check(k, l, x, ldx, M, ws, err));
    const int N = l.w.rows, K = l.w.cols, R = l.rank;
    if ((R > 0 && !t) || !dy || lddy < N)
        return err.set(SM_ERR_INVALID_ARGUMENT, "lora linear: t or dy missing, or row stride of dy < N %d", N);
    if (grads.dx && grads.lddx < K) return err.set(SM_ERR_INVALID_ARGUMENT, "lora linear: row stride of dx < K %d", K);
    const Plan p = make_plan(k, l.w.type, M, N, K, R, ws.max_tasks);
    uint8_t *base = aligned(ws.data);
    float *bt = reinterpret_cast<float *>(base + p.bt), *at = reinterpret_cast<float *>(base + p.at);
    float *u = reinterpret_cast<float *>(base + p.u), *st = reinterpret_cast<float *>(base + p.st);
    float *ut = reinterpret_cast<float *>(base + p.ut);
    auto slot = [&](int task) { return reinterpret_cast<float *>(base + p.slots + p.slot_bytes * static_cast<size_t>(task)); };
    const float s = l.scale;
    const int chunks = (M + kChunkRows - 1) / kChunkRows;
    const Parallel::Hold hold(par); // workers keep spinning between the phases' hand-offs
    LinearGrads g = grads;
    if (R == 0) g.da = g.db = nullptr; // a frozen linear: only dx

    // The small transposes the table's products want (their weights are rows of the
    // reduced dimension): rank x N, K x rank, rank x M.
    if (R > 0 && (g.da || g.dx)) transpose(l.b, R, N, R, bt, N);
    if (R > 0 && g.dx) transpose(l.a, K, R, K, at, R);
    if (g.db) transpose(t, R, M, R, st, M);

    // u = s * (dy B), and u^T, by rows of dy (da and dx need them).
    const kern::Matrix BT = f32_matrix(bt, R, N);
    if (R > 0 && (g.da || g.dx))
        split(par, task_count(par, chunks, chunks), chunks, [&](int, int c0, int c1) {
            const int m0 = c0 * kChunkRows, m1 = c1 * kChunkRows < M ? c1 * kChunkRows : M;
            float *ur = u + static_cast<int64_t>(m0) * R;
            k.matmul(BT, dy + m0 * lddy, fbytes(lddy), m1 - m0, ur, R, 0, R);
            scale(ur, static_cast<int64_t>(m1 - m0) * R, s);
            transpose(ur, R, m1 - m0, R, ut + m0, M);
        });

    // db += dy^T t: per tile of B's rows, that tile of dy transposed (rows of M) against
    // t^T's rank rows: each element one kernel chain over m.
    if (g.db) {
        const kern::Matrix ST = f32_matrix(st, R, M);
        const int tiles = (N + kTileRows - 1) / kTileRows;
        split(par, task_count(par, ws.max_tasks, tiles), tiles, [&](int task, int i0, int i1) {
            float *dyt = slot(task), *o = dyt + static_cast<int64_t>(kTileRows) * M;
            for (int i = i0; i < i1; i++) {
                const int n0 = i * kTileRows, nb = N - n0 < kTileRows ? N - n0 : kTileRows;
                transpose(dy + n0, lddy, M, nb, dyt, M);
                k.matmul(ST, dyt, fbytes(M), nb, o, R, 0, R);
                for (int r = 0; r < nb; r++) k.add(g.db + static_cast<int64_t>(n0 + r) * R, o + static_cast<int64_t>(r) * R, R);
            }
        });
    }

    // da += u^T x: per tile of A's columns, that tile of x transposed against u^T.
    if (g.da) {
        const kern::Matrix UT = f32_matrix(ut, R, M);
        const int tiles = (K + kTileRows - 1) / kTileRows;
        split(par, task_count(par, ws.max_tasks, tiles), tiles, [&](int task, int i0, int i1) {
            float *xt = slot(task), *o = xt + static_cast<int64_t>(kTileRows) * M;
            for (int i = i0; i < i1; i++) {
                const int k0 = i * kTileRows, kb = K - k0 < kTileRows ? K - k0 : kTileRows;
                transpose(x + k0, ldx, M, kb, xt, M);
                k.matmul(UT, xt, fbytes(M), kb, o, R, 0, R);
                add_transposed(o, R, kb, R, g.da + k0, K);
            }
        });
    }

    // dx = dy W + u A, by rows of dx. W goes kTileRows rows at a time: dequantized (either
    // layout), transposed into a K x nb F32 matrix (in Rows8 where the table reads F32
    // panels in place) and multiplied with dy's matching columns; the tiles' products are
    // added in ascending order, then u A.
    if (g.dx) {
        const bool rows8_ok = kern::wants_rows8(k, TensorType::F32, K, kTileRows);
        const bool f32_rows8 = l.w.type == TensorType::F32 && l.w.layout == kern::Layout::Rows8;
        split(par, task_count(par, ws.max_tasks, chunks), chunks, [&](int task, int c0, int c1) {
            float *rows = slot(task), *tile = rows + static_cast<int64_t>(K) * kTileRows,
                  *o = tile + static_cast<int64_t>(K) * kTileRows;
            const int mb = c0 * kChunkRows, me = c1 * kChunkRows < M ? c1 * kChunkRows : M;
            for (int n0 = 0; n0 < N; n0 += kTileRows) {
                const int nb = N - n0 < kTileRows ? N - n0 : kTileRows;
                bool r8 = rows8_ok && kern::wants_rows8(k, TensorType::F32, K, nb);
                if (f32_rows8 && nb % 8 == 0) {
                    // An F32 Rows8 group is its 8 rows transposed (K x 8): W^T's columns
                    // come 8 at a time, no dequantization.
                    r8 = false;
                    for (int g = 0; g < nb / 8; g++) {
                        const float *src = static_cast<const float *>(l.w.data) + static_cast<int64_t>(n0 / 8 + g) * 8 * K;
                        for (int kk = 0; kk < K; kk++)
                            memcpy(tile + static_cast<int64_t>(kk) * nb + 8 * g, src + static_cast<int64_t>(kk) * 8,
                                   8 * sizeof(float));
                    }
                } else {
                    for (int r = 0; r < nb; r++) k.get_row(l.w, n0 + r, rows + static_cast<int64_t>(r) * K);
                    pack_wt(rows, nb, K, r8, tile);
                }
                kern::Matrix WT = f32_matrix(tile, K, nb);
                if (r8) WT.layout = kern::Layout::Rows8;
                const bool direct = n0 == 0 && !g.dx_accumulate;
                for (int m0 = mb; m0 < me; m0 += kChunkRows) {
                    const int mc = me - m0 < kChunkRows ? me - m0 : kChunkRows;
                    float *d = g.dx + m0 * g.lddx;
                    if (direct) {
                        k.matmul(WT, dy + m0 * lddy + n0, fbytes(lddy), mc, d, g.lddx, 0, K);
                        continue;
                    }
                    k.matmul(WT, dy + m0 * lddy + n0, fbytes(lddy), mc, o, K, 0, K);
                    for (int r = 0; r < mc; r++) k.add(d + r * g.lddx, o + static_cast<int64_t>(r) * K, K);
                }
            }
            const kern::Matrix AT = f32_matrix(at, K, R);
            for (int m0 = mb; m0 < me && R > 0; m0 += kChunkRows) {
                const int mc = me - m0 < kChunkRows ? me - m0 : kChunkRows;
                k.matmul(AT, u + static_cast<int64_t>(m0) * R, fbytes(R), mc, o, K, 0, K);
                for (int r = 0; r < mc; r++) k.add(g.dx + (m0 + r) * g.lddx, o + static_cast<int64_t>(r) * K, K);
            }
        });
    }
    return SM_OK;
}

} // namespace sm::lora
