// The scalar oracle: plain loops, one accumulator, k in order. Every SIMD table is
// tested against these functions.
#include "kernels/common/act.h"
#include "kernels/kernels.h"
#include "quant/act_q8.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quant.h"

#include <cmath>
#include <cstring>

namespace sm::kern {

namespace {

// The quantized types multiply 8-bit activations (quant/act_q8.h); everything else takes
// the floats as they are (kernels/common/act.h).
void quantize_rows(const float *x, int64_t ldx, int M, int K, void *act, size_t rb) {
    for (int m = 0; m < M; m++) quant::quantize_act_q8(x + m * ldx, K, static_cast<uint8_t *>(act) + static_cast<size_t>(m) * rb);
}

void prepare_act(TensorType w, const float *x, int64_t ldx, int M, int r0, int r1, int K, void *act) {
    prepare_rows(w, x, ldx, r0, r1, K, act, quantize_rows);
}

// Integer dot products per (sub-)block, scaled and summed in float block after block:
//   Q8_0 / Q4_0  acc += (d_w * d_x) * isum                     per 32-block
//   Q4_K         acc += ((d sc_s) * d_x) * isum_s               per 32-sub-block, then
//                acc -= (dmin m_s) * (d_x * sum_x)              per sub-block, at the end
//   Q6_K         acc += ((d sc_t) * d_x) * isum_t               per 16-sub-block
void matmul_q8(const Matrix &w, const uint8_t *act, size_t act_rb, int M, float *y, int64_t ldy, int n0, int n1) {
    const quant::ActQ8Layout l = quant::act_q8_layout(w.cols);
    for (int m = 0; m < M; m++) {
        const uint8_t *xr = act + static_cast<size_t>(m) * act_rb;
        const int8_t *xq = reinterpret_cast<const int8_t *>(xr);
        const float *dx = reinterpret_cast<const float *>(xr + l.d_off);
        const int32_t *sx = reinterpret_cast<const int32_t *>(xr + l.sum_off);
        for (int n = n0; n < n1; n++) {
            float acc = 0.0f;
            const uint8_t *row = w.row(n);
            if (w.type == TensorType::Q8_0 || w.type == TensorType::Q4_0) {
                for (int b = 0; b < l.nb; b++) {
                    int32_t isum = 0;
                    float dw;
                    if (w.type == TensorType::Q8_0) {
                        const auto *blk = reinterpret_cast<const quant::BlockQ8_0 *>(row) + b;
                        for (int j = 0; j < 32; j++) isum += blk->qs[j] * xq[32 * b + j];
                        dw = fp16_to_f32(blk->d);
                    } else {
                        const auto *blk = reinterpret_cast<const quant::BlockQ4_0 *>(row) + b;
                        for (int j = 0; j < 16; j++)
                            isum += ((blk->qs[j] & 0xF) - 8) * xq[32 * b + j] + ((blk->qs[j] >> 4) - 8) * xq[32 * b + j + 16];
                        dw = fp16_to_f32(blk->d);
                    }
                    acc += (dw * dx[b]) * static_cast<float>(isum);
                }
            } else if (w.type == TensorType::Q4_K) {
                for (int sb = 0; sb < l.nb / 8; sb++) {
                    const auto &blk = reinterpret_cast<const quant::BlockQ4K *>(row)[sb];
                    float dm[8];
                    for (int s = 0; s < 8; s++) {
                        uint8_t sc, mn;
                        quant::scale_min_k4(s, blk.scales, &sc, &mn);
                        dm[s] = fp16_to_f32(blk.dmin) * static_cast<float>(mn);
                        int32_t isum = 0;
                        for (int j = 0; j < 32; j++) isum += quant::q4k_quant(blk, 32 * s + j) * xq[256 * sb + 32 * s + j];
                        acc += ((fp16_to_f32(blk.d) * static_cast<float>(sc)) * dx[8 * sb + s]) * static_cast<float>(isum);
                    }
                    for (int s = 0; s < 8; s++) acc -= dm[s] * (dx[8 * sb + s] * static_cast<float>(sx[8 * sb + s]));
                }
            } else { // Q6_K
                for (int sb = 0; sb < l.nb / 8; sb++) {
                    const auto &blk = reinterpret_cast<const quant::BlockQ6K *>(row)[sb];
                    for (int t = 0; t < 16; t++) {
                        int32_t isum = 0;
                        for (int j = 0; j < 16; j++) isum += quant::q6k_quant(blk, 16 * t + j) * xq[256 * sb + 16 * t + j];
                        acc += ((fp16_to_f32(blk.d) * static_cast<float>(blk.scales[t])) * dx[8 * sb + t / 2]) *
                               static_cast<float>(isum);
                    }
                }
            }
            y[m * ldy + n] = acc;
        }
    }
}

template <class Load>
void matmul_rows(const Matrix &w, const float *x, int64_t ldx, int M, float *y, int64_t ldy, int n0, int n1, Load load) {
    for (int m = 0; m < M; m++) {
        const float *xm = x + m * ldx;
        for (int n = n0; n < n1; n++) {
            const uint8_t *row = w.row(n);
            float acc = 0.0f;
            for (int k = 0; k < w.cols; k++) acc += load(row, k) * xm[k];
            y[m * ldy + n] = acc;
        }
    }
}

void matmul(const Matrix &w, const void *act, size_t act_row_bytes, int M, float *y, int64_t ldy, int n0, int n1) {
    const float *x = static_cast<const float *>(act);
    const int64_t ldx = static_cast<int64_t>(act_row_bytes / sizeof(float));
    switch (w.type) {
    case TensorType::F32:
        matmul_rows(w, x, ldx, M, y, ldy, n0, n1, [](const uint8_t *r, int k) {
            float f;
            memcpy(&f, r + 4 * k, 4);
            return f;
        });
        break;
    case TensorType::F16:
        matmul_rows(w, x, ldx, M, y, ldy, n0, n1, [](const uint8_t *r, int k) {
            uint16_t h;
            memcpy(&h, r + 2 * k, 2);
            return fp16_to_f32(h);
        });
        break;
    case TensorType::BF16:
        matmul_rows(w, x, ldx, M, y, ldy, n0, n1, [](const uint8_t *r, int k) {
            uint16_t h;
            memcpy(&h, r + 2 * k, 2);
            return bf16_to_f32(h);
        });
        break;
    case TensorType::Q8_0:
    case TensorType::Q4_0:
    case TensorType::Q4_K:
    case TensorType::Q6_K: matmul_q8(w, static_cast<const uint8_t *>(act), act_row_bytes, M, y, ldy, n0, n1); break;
    default:
        for (int m = 0; m < M; m++)
            for (int n = n0; n < n1; n++) y[m * ldy + n] = NAN;
        break;
    }
}

void rmsnorm(float *out, const float *x, const float *weight, int n, float eps) {
    float ss = 0.0f;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    const float s = 1.0f / sqrtf(ss / static_cast<float>(n) + eps);
    for (int i = 0; i < n; i++) out[i] = weight[i] * (s * x[i]);
}

void rope(float *x, int n_heads, int head_dim, const float *cs) {
    for (int h = 0; h < n_heads; h++) {
        float *v = x + h * head_dim;
        for (int i = 0; i < head_dim / 2; i++) {
            const float c = cs[2 * i], s = cs[2 * i + 1];
            const float a = v[2 * i], b = v[2 * i + 1];
            v[2 * i] = a * c - b * s;
            v[2 * i + 1] = a * s + b * c;
        }
    }
}

void swiglu(float *gate, const float *up, int n) {
    for (int i = 0; i < n; i++) {
        const float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void add(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] += x[i];
}

float kv_at(const float *f, const uint16_t *h, int64_t i) { return h ? fp16_to_f32(h[i]) : f[i]; }

// Online softmax state of one (query, head).
struct Online {
    float max = -INFINITY, sum = 0.0f;
    float acc[512];
};

// Folds keys [j0, j1) (absolute positions) into the state, scoring with qv.
void fold_tile(Online &st, const float *qv, const AttnArgs &a, int kvh, int64_t j0, int64_t j1) {
    float scores[kAttnTile];
    const int hd = a.head_dim;
    int n = 0;
    float tile_max = -INFINITY;
    for (int64_t j = j0; j < j1; j++, n++) {
        const int64_t slot = attn_slot(j, a.n_sinks, a.n_slots);
        float s = 0.0f;
        for (int d = 0; d < hd; d++) s += qv[d] * kv_at(a.k, a.k16, k_index(kvh, slot, d, hd, a.n_slots));
        s *= a.scale;
        scores[n] = s;
        if (s > tile_max) tile_max = s;
    }
    const float new_max = tile_max > st.max ? tile_max : st.max;
    const float corr = expf(st.max - new_max); // exp(-inf) = 0 on the first tile
    st.sum *= corr;
    for (int d = 0; d < hd; d++) st.acc[d] *= corr;
    n = 0;
    for (int64_t j = j0; j < j1; j++, n++) {
        const float p = expf(scores[n] - new_max);
        st.sum += p;
        const int64_t vr = (static_cast<int64_t>(kvh) * a.n_slots + attn_slot(j, a.n_sinks, a.n_slots)) * hd;
        for (int d = 0; d < hd; d++) st.acc[d] += p * kv_at(a.v, a.v16, vr + d);
    }
    st.max = new_max;
}

// Window keys [lo, hi] (lo >= n_sinks) in tiles aligned to n_sinks + multiples of kAttnTile.
void fold_range(Online &st, const float *qv, const AttnArgs &a, int kvh, int64_t lo, int64_t hi) {
    int64_t j = lo;
    while (j <= hi) {
        int64_t end = a.n_sinks + ((j - a.n_sinks) / kAttnTile + 1) * kAttnTile;
        if (end > hi + 1) end = hi + 1;
        fold_tile(st, qv, a, kvh, j, end);
        j = end;
    }
}

void attention(const AttnArgs &a, int h0, int h1) {
    const int group = a.n_heads / a.n_kv_heads;
    for (int r = 0; r < a.n_q; r++) {
        const int64_t p = a.pos0 + r;
        for (int h = h0; h < h1; h++) {
            const int kvh = h / group;
            const float *qv = a.q + r * a.ldq + h * a.head_dim;
            Online st;
            for (int d = 0; d < a.head_dim; d++) st.acc[d] = 0.0f;
            if (p < a.n_sinks + a.window) {
                const int64_t sinks_seen = p + 1 < a.n_sinks ? p + 1 : a.n_sinks;
                if (sinks_seen > 0) fold_tile(st, qv, a, kvh, 0, sinks_seen);
                if (p >= a.n_sinks) fold_range(st, qv, a, kvh, a.n_sinks, p);
            } else {
                if (a.n_sinks > 0) fold_tile(st, a.q_sink + r * a.ldq + h * a.head_dim, a, kvh, 0, a.n_sinks);
                fold_range(st, qv, a, kvh, p - a.window + 1, p);
            }
            float *o = a.out + r * a.ldo + h * a.head_dim;
            const float inv = 1.0f / st.sum;
            for (int d = 0; d < a.head_dim; d++) o[d] = st.acc[d] * inv;
        }
    }
}

} // namespace

constexpr Kernels ref_table() {
    Kernels k{};
    k.isa = SM_ISA_SCALAR;
    k.name = "scalar";
    k.act_format = act_format_of;
    k.act_row_bytes = act_row_bytes_of;
    k.prepare_act = prepare_act;
    k.matmul = matmul;
    k.get_row = matrix_row;
    k.rmsnorm = rmsnorm;
    k.rope = rope;
    k.swiglu = swiglu;
    k.add = add;
    k.attention = attention;
    k.rows8_types = 0; // every layout is plain
    return k;
}

const Kernels kRefKernels = ref_table();

} // namespace sm::kern
