#include "model/reference_forward.h"

#include <cmath>
#include <cstring>

namespace sm {

size_t ReferenceForward::bytes_needed(const Hparams &hp, int n_ctx) {
    ReferenceForward r;
    r.hp_ = hp;
    r.n_ctx_ = n_ctx;
    Bump m = Bump::measuring();
    r.layout(m);
    return m.used;
}

void ReferenceForward::layout(Bump &a) {
    const size_t dim = static_cast<size_t>(hp_.dim), kv = static_cast<size_t>(hp_.kv_dim());
    const size_t hid = static_cast<size_t>(hp_.hidden_dim);
    const size_t widest = dim > hid ? dim : hid;
    x_ = a.take_n<float>(dim);
    xb_ = a.take_n<float>(static_cast<size_t>(hp_.q_dim()) > dim ? static_cast<size_t>(hp_.q_dim()) : dim);
    xb2_ = a.take_n<float>(dim);
    q_ = a.take_n<float>(static_cast<size_t>(hp_.q_dim()));
    k_ = a.take_n<float>(kv);
    v_ = a.take_n<float>(kv);
    hb_ = a.take_n<float>(hid);
    hb2_ = a.take_n<float>(hid);
    att_ = a.take_n<float>(static_cast<size_t>(n_ctx_));
    logits_ = a.take_n<float>(static_cast<size_t>(hp_.n_vocab));
    row_ = a.take_n<float>(widest > static_cast<size_t>(hp_.q_dim()) ? widest : static_cast<size_t>(hp_.q_dim()));
    const size_t cache = static_cast<size_t>(hp_.n_layers) * static_cast<size_t>(n_ctx_) * kv;
    key_cache_ = a.take_n<float>(cache);
    value_cache_ = a.take_n<float>(cache);
}

void ReferenceForward::init(const Hparams &hp, const Weights &w, int n_ctx, Bump &arena) {
    hp_ = hp;
    w_ = &w;
    n_ctx_ = n_ctx;
    layout(arena);
}

// y = W x, one dequantized row at a time.
void ReferenceForward::matmul(float *y, const float *x, const kern::Matrix &w) {
    for (int n = 0; n < w.rows; n++) {
        kern::kRefKernels.get_row(w, n, row_);
        float acc = 0.0f;
        for (int k = 0; k < w.cols; k++) acc += row_[k] * x[k];
        y[n] = acc;
    }
}

static void rmsnorm(float *o, const float *x, const float *weight, int n, float eps) {
    float ss = 0.0f;
    for (int j = 0; j < n; j++) ss += x[j] * x[j];
    ss = 1.0f / sqrtf(ss / static_cast<float>(n) + eps);
    for (int j = 0; j < n; j++) o[j] = weight[j] * (ss * x[j]);
}

static void softmax(float *x, int n) {
    float max = x[0];
    for (int i = 1; i < n; i++) max = x[i] > max ? x[i] : max;
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    for (int i = 0; i < n; i++) x[i] /= sum;
}

const float *ReferenceForward::forward(int32_t token, int pos) {
    const Hparams &p = hp_;
    const Weights &w = *w_;
    const int dim = p.dim, kv_dim = p.kv_dim(), hs = p.head_dim, hidden = p.hidden_dim;
    const int kv_mul = p.n_heads / p.n_kv_heads;

    // token embedding
    kern::kRefKernels.get_row(w.tok_embd, token, x_);

    for (int l = 0; l < p.n_layers; l++) {
        const LayerWeights &L = w.layers[l];

        // attention: rmsnorm, q k v projections
        rmsnorm(xb_, x_, L.attn_norm, dim, p.norm_eps);
        matmul(q_, xb_, L.wq);
        matmul(k_, xb_, L.wk);
        matmul(v_, xb_, L.wv);

        // RoPE: rotate adjacent pairs of every head of q and k (angles in double: exact
        // enough for any position)
        for (int i = 0; i < p.q_dim(); i += 2) {
            const int hd = i % hs;
            const double freq = 1.0 / pow(static_cast<double>(p.rope_theta), hd / static_cast<double>(hs));
            const double angle = pos * freq;
            const float c = static_cast<float>(cos(angle)), s = static_cast<float>(sin(angle));
            for (int v = 0; v < (i < kv_dim ? 2 : 1); v++) {
                float *vec = v == 0 ? q_ : k_;
                const float a = vec[i], b = vec[i + 1];
                vec[i] = a * c - b * s;
                vec[i + 1] = a * s + b * c;
            }
        }

        // cache this position's key and value
        const size_t loff = static_cast<size_t>(l) * static_cast<size_t>(n_ctx_) * static_cast<size_t>(kv_dim);
        memcpy(key_cache_ + loff + static_cast<size_t>(pos) * kv_dim, k_, sizeof(float) * static_cast<size_t>(kv_dim));
        memcpy(value_cache_ + loff + static_cast<size_t>(pos) * kv_dim, v_, sizeof(float) * static_cast<size_t>(kv_dim));

        // multi-head attention over positions 0..pos
        for (int h = 0; h < p.n_heads; h++) {
            const float *q = q_ + h * hs;
            const int kvh = h / kv_mul;
            for (int t = 0; t <= pos; t++) {
                const float *k = key_cache_ + loff + static_cast<size_t>(t) * kv_dim + kvh * hs;
                float score = 0.0f;
                for (int i = 0; i < hs; i++) score += q[i] * k[i];
                att_[t] = score / sqrtf(static_cast<float>(hs));
            }
            softmax(att_, pos + 1);
            float *out = xb_ + h * hs;
            memset(out, 0, sizeof(float) * static_cast<size_t>(hs));
            for (int t = 0; t <= pos; t++) {
                const float *v = value_cache_ + loff + static_cast<size_t>(t) * kv_dim + kvh * hs;
                for (int i = 0; i < hs; i++) out[i] += att_[t] * v[i];
            }
        }

        // output projection and residual
        matmul(xb2_, xb_, L.wo);
        for (int i = 0; i < dim; i++) x_[i] += xb2_[i];

        // SwiGLU feed-forward and residual
        rmsnorm(xb_, x_, L.ffn_norm, dim, p.norm_eps);
        matmul(hb_, xb_, L.w1);
        matmul(hb2_, xb_, L.w3);
        for (int i = 0; i < hidden; i++) {
            const float g = hb_[i];
            hb_[i] = g / (1.0f + expf(-g)) * hb2_[i];
        }
        matmul(xb2_, hb_, L.w2);
        for (int i = 0; i < dim; i++) x_[i] += xb2_[i];
    }

    // final norm and classifier
    rmsnorm(x_, x_, w.output_norm, dim, p.norm_eps);
    matmul(logits_, x_, w.output);
    return logits_;
}

} // namespace sm
