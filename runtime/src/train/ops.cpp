#include "train/ops.h"

#include <cmath>
#include <cstring>

namespace sm::train {

// ---------------------------------------------------------------- embedding

void embedding_forward(float *out, const int32_t *tokens, const float *tok_embd, int rows, int dim) {
    for (int r = 0; r < rows; r++)
        memcpy(out + static_cast<int64_t>(r) * dim, tok_embd + static_cast<int64_t>(tokens[r]) * dim, sizeof(float) * dim);
}

void embedding_backward(float *dtok_embd, const int32_t *tokens, const float *dout, int rows, int dim) {
    for (int r = 0; r < rows; r++) {
        float *d = dtok_embd + static_cast<int64_t>(tokens[r]) * dim;
        const float *g = dout + static_cast<int64_t>(r) * dim;
        for (int i = 0; i < dim; i++) d[i] += g[i];
    }
}

// ---------------------------------------------------------------- RMSNorm

void rmsnorm_forward(float *out, float *rstd, const float *x, const float *w, int rows, int dim, float eps) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + static_cast<int64_t>(r) * dim;
        float *o = out + static_cast<int64_t>(r) * dim;
        float ss = 0.0f;
        for (int i = 0; i < dim; i++) ss += xr[i] * xr[i];
        const float s = 1.0f / sqrtf(ss / static_cast<float>(dim) + eps);
        rstd[r] = s;
        for (int i = 0; i < dim; i++) o[i] = xr[i] * s * w[i];
    }
}

// y_i = w_i x_i s, s = (mean(x^2) + eps)^(-1/2):
//   dx_i = s w_i dy_i - x_i s^3 / n * sum_j w_j dy_j x_j,   dw_i = sum_rows dy_i x_i s
void rmsnorm_backward(float *dx, float *dw, const float *dout, const float *x, const float *w, const float *rstd, int rows,
                      int dim) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + static_cast<int64_t>(r) * dim, *g = dout + static_cast<int64_t>(r) * dim;
        float *d = dx + static_cast<int64_t>(r) * dim;
        const float s = rstd[r];
        float dot = 0.0f;
        for (int i = 0; i < dim; i++) dot += w[i] * g[i] * xr[i];
        const float c = dot * s * s * s / static_cast<float>(dim);
        for (int i = 0; i < dim; i++) {
            d[i] += s * w[i] * g[i] - xr[i] * c;
            dw[i] += g[i] * xr[i] * s;
        }
    }
}

// ---------------------------------------------------------------- RoPE

void rope_table(float *cs, int T, int head_dim, float theta) {
    const int half = head_dim / 2;
    for (int t = 0; t < T; t++)
        for (int j = 0; j < half; j++) {
            const double inv_freq = 1.0 / pow(static_cast<double>(theta), (2.0 * j) / head_dim);
            const double a = static_cast<double>(t) * inv_freq;
            cs[(static_cast<int64_t>(t) * half + j) * 2] = static_cast<float>(cos(a));
            cs[(static_cast<int64_t>(t) * half + j) * 2 + 1] = static_cast<float>(sin(a));
        }
}

static void rope_rows(float *x, int64_t ld, int rows, int T, int n_heads, int head_dim, const float *cs, float sign) {
    const int half = head_dim / 2;
    for (int r = 0; r < rows; r++) {
        const float *c = cs + static_cast<int64_t>(r % T) * half * 2;
        for (int h = 0; h < n_heads; h++) {
            float *v = x + r * ld + static_cast<int64_t>(h) * head_dim;
            for (int j = 0; j < half; j++) {
                const float co = c[2 * j], si = sign * c[2 * j + 1];
                const float a = v[2 * j], b = v[2 * j + 1];
                v[2 * j] = a * co - b * si;
                v[2 * j + 1] = a * si + b * co;
            }
        }
    }
}

void rope_forward(float *x, int64_t ld, int rows, int T, int n_heads, int head_dim, const float *cs) {
    rope_rows(x, ld, rows, T, n_heads, head_dim, cs, 1.0f);
}

// The rotation is orthogonal: its gradient is the rotation by minus the angle.
void rope_backward(float *dx, int64_t ld, int rows, int T, int n_heads, int head_dim, const float *cs) {
    rope_rows(dx, ld, rows, T, n_heads, head_dim, cs, -1.0f);
}

// ---------------------------------------------------------------- attention

namespace {

struct AttnJob {
    const Compute *c;
    float *out, *att, *dq, *dk, *dv, *scratch;
    const float *dout, *q, *k, *v;
    AttnShape s;
    int task0;
};

// Rows [0, T) of a head's T x hd slice as a weight matrix for the table's y = x W^T.
kern::Matrix head_rows(const float *p, int T, int hd, int64_t ld) {
    kern::Matrix m;
    m.type = TensorType::F32;
    m.layout = kern::Layout::Rows;
    m.rows = T;
    m.cols = hd;
    m.row_bytes = static_cast<size_t>(ld) * sizeof(float);
    m.data = p;
    return m;
}

// One (sequence, query head): S = Q K^T, causal softmax of S * scale in place (saved as
// the probabilities), out = P V.
void attn_forward_task(void *p, int task) {
    const AttnJob &j = *static_cast<const AttnJob *>(p);
    task += j.task0;
    const AttnShape &s = j.s;
    const int b = task / s.n_heads, h = task % s.n_heads, kvh = h / (s.n_heads / s.n_kv_heads), hd = s.head_dim, T = s.T;
    const float scale = 1.0f / sqrtf(static_cast<float>(hd));
    float *att = j.att + (static_cast<int64_t>(b) * s.n_heads + h) * T * T;
    const int64_t r0 = static_cast<int64_t>(b) * T;
    const float *q = j.q + r0 * s.ldq + static_cast<int64_t>(h) * hd;
    const float *k = j.k + r0 * s.ldkv + static_cast<int64_t>(kvh) * hd;
    const float *v = j.v + r0 * s.ldkv + static_cast<int64_t>(kvh) * hd;
    j.c->k->matmul(head_rows(k, T, hd, s.ldkv), q, static_cast<size_t>(s.ldq) * sizeof(float), T, att, T, 0, T);
    for (int t = 0; t < T; t++) {
        float *a = att + static_cast<int64_t>(t) * T;
        float mx = -INFINITY;
        for (int u = 0; u <= t; u++) {
            a[u] *= scale;
            mx = a[u] > mx ? a[u] : mx;
        }
        float sum = 0.0f;
        for (int u = 0; u <= t; u++) {
            a[u] = expf(a[u] - mx);
            sum += a[u];
        }
        const float inv = 1.0f / sum;
        for (int u = 0; u <= t; u++) a[u] *= inv;
        for (int u = t + 1; u < T; u++) a[u] = 0.0f;
    }
    j.c->tk->gemm_nn(att, T, T, v, s.ldkv, T, j.out + r0 * s.ldo + static_cast<int64_t>(h) * hd, s.ldo, 0, hd);
}

// One (sequence, KV head), the query heads sharing it in order:
//   dP = dout V^T;  dS = P (dP - rowsum(P dP)) * scale;  dq = dS K
//   dk += dS^T Q;   dv += P^T dout
// The first head of the group writes dk and dv, the others add theirs (from scratch).
void attn_backward_task(void *p, int task) {
    const AttnJob &j = *static_cast<const AttnJob *>(p);
    task += j.task0;
    const AttnShape &s = j.s;
    const int group = s.n_heads / s.n_kv_heads, T = s.T;
    const int b = task / s.n_kv_heads, kvh = task % s.n_kv_heads, hd = s.head_dim;
    const float scale = 1.0f / sqrtf(static_cast<float>(hd));
    const int64_t r0 = static_cast<int64_t>(b) * T;
    float *ds = j.scratch + static_cast<int64_t>(task) * (static_cast<int64_t>(T) * T + 2 * static_cast<int64_t>(T) * hd);
    float *tk = ds + static_cast<int64_t>(T) * T, *tv = tk + static_cast<int64_t>(T) * hd;
    const float *k = j.k + r0 * s.ldkv + static_cast<int64_t>(kvh) * hd;
    const float *v = j.v + r0 * s.ldkv + static_cast<int64_t>(kvh) * hd;
    float *dk = j.dk + r0 * s.ldkv + static_cast<int64_t>(kvh) * hd, *dv = j.dv + r0 * s.ldkv + static_cast<int64_t>(kvh) * hd;
    for (int h = kvh * group; h < (kvh + 1) * group; h++) {
        const float *att = j.att + (static_cast<int64_t>(b) * s.n_heads + h) * T * T;
        const float *g = j.dout + r0 * s.ldo + static_cast<int64_t>(h) * hd;
        const float *q = j.q + r0 * s.ldq + static_cast<int64_t>(h) * hd;
        float *dq = j.dq + r0 * s.ldq + static_cast<int64_t>(h) * hd;
        j.c->k->matmul(head_rows(v, T, hd, s.ldkv), g, static_cast<size_t>(s.ldo) * sizeof(float), T, ds, T, 0, T);
        for (int t = 0; t < T; t++) {
            const float *a = att + static_cast<int64_t>(t) * T;
            float *d = ds + static_cast<int64_t>(t) * T;
            float dot = 0.0f;
            for (int u = 0; u <= t; u++) dot += a[u] * d[u];
            for (int u = 0; u <= t; u++) d[u] = a[u] * (d[u] - dot) * scale;
            for (int u = t + 1; u < T; u++) d[u] = 0.0f;
        }
        j.c->tk->gemm_nn(ds, T, T, k, s.ldkv, T, dq, s.ldq, 0, hd);
        const bool first = h == kvh * group;
        j.c->tk->gemm_tn(ds, T, T, q, s.ldq, T, first ? dk : tk, first ? s.ldkv : hd, 0, hd);
        j.c->tk->gemm_tn(att, T, T, g, s.ldo, T, first ? dv : tv, first ? s.ldkv : hd, 0, hd);
        if (first) continue;
        for (int u = 0; u < T; u++)
            for (int i = 0; i < hd; i++) {
                dk[u * s.ldkv + i] += tk[u * hd + i];
                dv[u * s.ldkv + i] += tv[u * hd + i];
            }
    }
}

void run(const Compute &c, TaskFn fn, void *ctx, int n) {
    if (c.par) c.par->run(fn, ctx, n);
    else
        for (int t = 0; t < n; t++) fn(ctx, t);
}

} // namespace

void attention_forward(const Compute &c, float *out, float *att, const float *q, const float *k, const float *v,
                       const AttnShape &s, int t0, int t1) {
    AttnJob j{};
    j.c = &c;
    j.task0 = t0;
    j.out = out;
    j.att = att;
    j.q = q;
    j.k = k;
    j.v = v;
    j.s = s;
    run(c, attn_forward_task, &j, (t1 < 0 ? attention_forward_tasks(s) : t1) - t0);
}

size_t attention_scratch_floats(const AttnShape &s) {
    return static_cast<size_t>(s.B) * static_cast<size_t>(s.n_kv_heads) *
           (static_cast<size_t>(s.T) * static_cast<size_t>(s.T) + 2 * static_cast<size_t>(s.T) * static_cast<size_t>(s.head_dim));
}

void attention_backward(const Compute &c, float *dq, float *dk, float *dv, const float *dout, const float *att, const float *q,
                        const float *k, const float *v, const AttnShape &s, float *scratch, int t0, int t1) {
    AttnJob j{};
    j.c = &c;
    j.task0 = t0;
    j.scratch = scratch;
    j.dq = dq;
    j.dk = dk;
    j.dv = dv;
    j.dout = dout;
    j.att = const_cast<float *>(att); // read only here
    j.q = q;
    j.k = k;
    j.v = v;
    j.s = s;
    run(c, attn_backward_task, &j, (t1 < 0 ? attention_backward_tasks(s) : t1) - t0);
}

// ---------------------------------------------------------------- loss

double crossentropy_forward(float *logits, float *losses, const int32_t *targets, int rows, int vocab) {
    double total = 0.0;
    for (int r = 0; r < rows; r++) {
        float *l = logits + static_cast<int64_t>(r) * vocab;
        float mx = l[0];
        for (int i = 1; i < vocab; i++) mx = l[i] > mx ? l[i] : mx;
        const float target_logit = targets[r] >= 0 ? l[targets[r]] : 0.0f;
        float sum = 0.0f;
        for (int i = 0; i < vocab; i++) {
            l[i] = expf(l[i] - mx);
            sum += l[i];
        }
        const float inv = 1.0f / sum;
        for (int i = 0; i < vocab; i++) l[i] *= inv;
        if (targets[r] < 0) {
            losses[r] = 0.0f;
            continue;
        }
        // -log p as log-sum-exp minus the logit: finite even where p underflows
        losses[r] = logf(sum) - (target_logit - mx);
        total += losses[r];
    }
    return total;
}

void crossentropy_backward(float *logits, const int32_t *targets, int rows, int vocab, float scale) {
    for (int r = 0; r < rows; r++) {
        float *l = logits + static_cast<int64_t>(r) * vocab;
        if (targets[r] < 0) {
            memset(l, 0, sizeof(float) * vocab);
            continue;
        }
        for (int i = 0; i < vocab; i++) l[i] *= scale;
        l[targets[r]] -= scale;
    }
}

} // namespace sm::train
