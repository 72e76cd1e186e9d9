// TrainModel in LoRA mode: the units of model.cpp over the frozen base (the loaded
// model's weights in their own types) with trainable adapter pairs on the chosen
// projections. Every product is a lora::linear (base product plus s B A x forward; dx
// through the base a dequantized tile at a time, dA and dB backward), run whole with its
// tasks on the thread pool: the bits never depend on the thread count. Norms, the
// embedding and the classifier are frozen: their gradients are not formed.
#include "model/weights.h"
#include "quant/quant.h"
#include "train/model.h"

#include <cstring>

namespace sm::train {

namespace {

using lora::Target;

const kern::Matrix &base_matrix(const Weights &w, int l, Target t) {
    const LayerWeights &L = w.layers[l];
    switch (t) {
    case Target::Q: return L.wq;
    case Target::K: return L.wk;
    case Target::V: return L.wv;
    case Target::O: return L.wo;
    case Target::Gate: return L.w1;
    case Target::Up: return L.w3;
    default: return L.w2;
    }
}

bool matrix_supported(const kern::Matrix &m, const char *name, int layer, Error &err) {
    if (!quant::type_convertible(m.type)) {
        err.set(SM_ERR_UNSUPPORTED, "LoRA training: %s (layer %d) is %s, a type the products cannot read", name, layer,
                type_name(static_cast<uint32_t>(m.type)));
        return false;
    }
    if (m.layout == kern::Layout::Rows8 && (m.rows % 8 || m.cols % 32)) {
        err.set(SM_ERR_UNSUPPORTED, "LoRA training: %s (layer %d) is interleaved in partial groups (%d x %d)", name, layer,
                m.rows, m.cols);
        return false;
    }
    return true;
}

} // namespace

bool TrainModel::base_supported(const Weights &w, Error &err) {
    for (int l = 0; l < w.n_layers; l++)
        for (int t = 0; t < lora::kTargets; t++)
            if (!matrix_supported(base_matrix(w, l, static_cast<Target>(t)), lora::target_tensor(static_cast<Target>(t)), l, err))
                return false;
    return matrix_supported(w.output, "output", -1, err) && matrix_supported(w.tok_embd, "token_embd", -1, err);
}

void TrainModel::init_lora(const FrozenBase &base, Bump &a) {
    base_ = base;
    const Hparams &hp = p_.hp();
    const int R = s_.rows(), rank = p_.lora_rank();
    lora_t_ = a.take_n<float>(static_cast<size_t>(s_.recompute ? 1 : hp.n_layers) * lora::kTargets * static_cast<size_t>(R) *
                              static_cast<size_t>(rank));
    norm_sink_ = a.take_n<float>(static_cast<size_t>(hp.dim));
    // The workspace: the largest any product needs (the classifier and untargeted
    // projections run with rank 0).
    const HeadSplit hs = head_split();
    size_t ws = lora::workspace_bytes(*base.k, base.w->output.type, lora_head_rows(s_), hs.vocab_cols, hp.dim, 0, base.max_tasks);
    for (int l = 0; l < hp.n_layers; l++)
        for (int t = 0; t < lora::kTargets; t++) {
            const Target tt = static_cast<Target>(t);
            const kern::Matrix &m = base_matrix(*base.w, l, tt);
            const size_t b = lora::workspace_bytes(*base.k, m.type, R, m.rows, m.cols, p_.lora_a(l, tt) >= 0 ? rank : 0,
                                                   base.max_tasks);
            ws = b > ws ? b : ws;
        }
    lora_ws_ = a.take(ws);
    lora_ws_bytes_ = ws;
}

float *TrainModel::lora_t(int l, Target t) const {
    return lora_t_ + (slot(l) * lora::kTargets + static_cast<int>(t)) * s_.rows() * p_.lora_rank();
}

lora::Linear TrainModel::lora_linear(int l, Target t) const {
    lora::Linear lin;
    lin.w = base_matrix(*base_.w, l, t);
    const int64_t a = p_.lora_a(l, t);
    if (a >= 0) {
        lin.a = W(a);
        lin.b = W(p_.lora_b(l, t));
        lin.rank = p_.lora_rank();
        lin.scale = base_.lora_scale;
    }
    return lin;
}

void TrainModel::lora_forward(int l, Target t, const float *x, int64_t ldx, float *y, int64_t ldy, int m0, int m1) {
    const lora::Workspace ws{lora_ws_, lora_ws_bytes_, base_.max_tasks};
    Error err;
    const int rank = p_.lora_rank();
    const sm_status st = lora::linear_forward(*base_.k, c_.par, lora_linear(l, t), x + m0 * ldx, ldx, m1 - m0, y + m0 * ldy, ldy,
                                              lora_t(l, t) + static_cast<int64_t>(m0) * rank, ws, err);
    if (st != SM_OK && status_ == SM_OK) status_ = st;
}

void TrainModel::lora_backward(int l, Target t, const float *x, int64_t ldx, const float *dy, int64_t lddy, float *dx,
                               bool dx_accumulate, int m0, int m1) {
    const lora::Workspace ws{lora_ws_, lora_ws_bytes_, base_.max_tasks};
    lora::LinearGrads g;
    const int64_t a = p_.lora_a(l, t);
    if (a >= 0) { // accumulated over the parts, in part order
        g.da = G(a);
        g.db = G(p_.lora_b(l, t));
    }
    g.lddx = base_matrix(*base_.w, l, t).cols;
    g.dx = dx + m0 * g.lddx;
    g.dx_accumulate = dx_accumulate;
    Error err;
    const int rank = p_.lora_rank();
    const sm_status st = lora::linear_backward(*base_.k, c_.par, lora_linear(l, t), x + m0 * ldx, ldx,
                                               lora_t(l, t) + static_cast<int64_t>(m0) * rank, dy + m0 * lddy, lddy, m1 - m0, g,
                                               ws, err);
    if (st != SM_OK && status_ == SM_OK) status_ = st;
}

namespace {

// Part `part` of n_parts of [0, rows), in whole 16-row blocks.
void row_range(int rows, int part, int n_parts, int &m0, int &m1) {
    const int blocks = (rows + 15) / 16;
    m0 = static_cast<int>(static_cast<int64_t>(blocks) * part / n_parts) * 16;
    m1 = static_cast<int>(static_cast<int64_t>(blocks) * (part + 1) / n_parts) * 16;
    if (m0 > rows) m0 = rows;
    if (m1 > rows) m1 = rows;
}

} // namespace

int TrainModel::lora_parts(int u) const {
    const int R = s_.rows();
    const UnitPos at = unit_pos(u);
    if (at.kind == UnitPos::Head)
        return at.op == kClassifier ? (R + lora_head_rows(s_) - 1) / lora_head_rows(s_) * head_split().per_chunk() : 1;
    if (at.kind == UnitPos::Embed || at.kind == UnitPos::EmbedBackward) return 1;
    const int op = at.op;
    if (op == kRope) return 1; // cheap, and its rows need their positions
    const Hparams &hp = p_.hp();
    const bool backward = at.kind == UnitPos::Backward;
    const int most = op == kAttention ? (backward ? s_.B * hp.n_kv_heads : s_.B * hp.n_heads) : (R + 15) / 16;
    // Weights in product flops of the ops that are not products, so every part takes
    // about as long: attention runs at about a quarter of the products' rate, and an
    // element of SwiGLU (an exp) or of a norm costs what ~400 / ~60 product flops do
    // (fitted to bench-train's per-unit times on the 24M model).
    double work = unit_flops(u);
    if (op == kAttention) work *= 4;
    else if (op == kSwiglu) work = 400.0 * R * hp.hidden_dim * (backward ? 2 : 1);
    else if (op == kAttnNorm || op == kFfnNorm) work = 60.0 * R * hp.dim * (backward ? 2 : 1);
    int k = static_cast<int>(work / part_flops() + 0.5);
    k = k < 1 ? 1 : k;
    return k < most ? k : most;
}

void TrainModel::lora_run(int u, int part, int n_parts) {
    const UnitPos at = unit_pos(u);
    switch (at.kind) {
    case UnitPos::Embed: // the adapters' gradients are all added to: zero them for a new step
        if (first_micro_ && !forward_only_) memset(grads_, 0, sizeof(float) * static_cast<size_t>(p_.total()));
        lora_embedding_forward();
        return;
    case UnitPos::Forward:
    case UnitPos::Recompute: return lora_layer_forward(at.layer, at.op, part, n_parts);
    case UnitPos::Head: return at.op == kClassifier ? lora_head_part(part) : lora_head(at.op);
    case UnitPos::Backward: return lora_layer_backward(at.layer, at.op, part, n_parts);
    default: return; // the embedding is frozen: its backward has nothing to do
    }
}

void TrainModel::lora_embedding_forward() {
    const int D = p_.hp().dim;
    for (int r = 0; r < s_.rows(); r++) base_.k->get_row(base_.w->tok_embd, tokens_[r], x_ + static_cast<int64_t>(r) * D);
}

void TrainModel::lora_layer_forward(int l, int op, int part, int n_parts) {
    int m0 = 0, m1 = 0;
    row_range(s_.rows(), part, n_parts, m0, m1);
    const Hparams &hp = p_.hp();
    const LayerWeights &B = base_.w->layers[l];
    const int D = hp.dim, H = hp.hidden_dim, QD = hp.q_dim(), KVD = hp.kv_dim(), QKV = p_.qkv_rows();
    const LayerActs A = acts(l); // plain names: lambdas cannot capture structured bindings in C++17
    float *x = A.x, *xn1 = A.xn1, *rstd1 = A.rstd1, *qkv = A.qkv, *atty = A.atty, *xmid = A.xmid, *xn2 = A.xn2, *rstd2 = A.rstd2,
          *h13 = A.h13, *hs = A.hs, *xout = A.xout;
    auto add_rows = [&](float *y, const float *a) { // the residual, this part's rows
        for (int64_t i = static_cast<int64_t>(m0) * D; i < static_cast<int64_t>(m1) * D; i++) y[i] += a[i];
    };
    switch (op) {
    case kAttnNorm: rmsnorm_forward(xn1 + m0 * D, rstd1 + m0, x + m0 * D, B.attn_norm, m1 - m0, D, hp.norm_eps); break;
    case kQkv:
        lora_forward(l, Target::Q, xn1, D, qkv, QKV, m0, m1);
        lora_forward(l, Target::K, xn1, D, qkv + QD, QKV, m0, m1);
        lora_forward(l, Target::V, xn1, D, qkv + QD + KVD, QKV, m0, m1);
        break;
    case kRope: rope_qkv(qkv, false); break;
    case kAttention: attention_part(A, false, part, n_parts); break;
    case kWo:
        lora_forward(l, Target::O, atty, QD, xmid, D, m0, m1);
        add_rows(xmid, x);
        break;
    case kFfnNorm: rmsnorm_forward(xn2 + m0 * D, rstd2 + m0, xmid + m0 * D, B.ffn_norm, m1 - m0, D, hp.norm_eps); break;
    case kW13:
        lora_forward(l, Target::Gate, xn2, D, h13, 2 * H, m0, m1);
        lora_forward(l, Target::Up, xn2, D, h13 + H, 2 * H, m0, m1);
        break;
    case kSwiglu:
        swiglu_forward(c_, hs + static_cast<int64_t>(m0) * H, h13 + static_cast<int64_t>(m0) * 2 * H, m1 - m0, H);
        break;
    default:
        lora_forward(l, Target::Down, hs, H, xout, D, m0, m1);
        add_rows(xout, xmid);
        break;
    }
}

TrainModel::HeadSplit TrainModel::head_split() const {
    const Hparams &hp = p_.hp();
    const int rows = lora_head_rows(s_), V = hp.n_vocab;
    HeadSplit h;
    int cols = static_cast<int>(part_flops() / (2.0 * rows * hp.dim)) / 16 * 16;
    cols = cols < 16 ? 16 : cols;
    h.vocab_cols = cols < V ? cols : V;
    h.n_vocab_parts = (V + h.vocab_cols - 1) / h.vocab_cols;
    // A logit's exp and sum (scalar code) weighs about 300 product flops: chosen so the
    // loss parts take about as long as the slices in bench-train on the 24M model.
    int lr = static_cast<int>(part_flops() / (300.0 * V));
    lr = lr < 1 ? 1 : lr;
    h.loss_rows = lr < rows ? lr : rows;
    h.n_loss_parts = (rows + h.loss_rows - 1) / h.loss_rows;
    return h;
}

// Part `part` of the head (see HeadSplit), for the chunk of rows it falls in:
//   vocabulary slices: logits[:, v0:v1] = xnf W[v0:v1]^T;
//   row slices: the loss of those rows (summed in row order), then their gradient;
//   vocabulary slices again: dxn (+)= dlogits[:, v0:v1] W[v0:v1] (the first slice writes).
void TrainModel::lora_head_part(int part) {
    const Hparams &hp = p_.hp();
    const int R = s_.rows(), D = hp.dim, V = hp.n_vocab, rows = lora_head_rows(s_);
    const HeadSplit h = head_split();
    const int chunk = part / h.per_chunk(), sub = part % h.per_chunk();
    const int m0 = chunk * rows, m1 = m0 + rows < R ? m0 + rows : R, M = m1 - m0;
    const lora::Workspace ws{lora_ws_, lora_ws_bytes_, base_.max_tasks};
    Error err;
    sm_status st = SM_OK;
    auto slice = [&](int i, int *v0) { // W's rows [v0, v0 + n) as a frozen linear
        *v0 = i * h.vocab_cols;
        const int v1 = *v0 + h.vocab_cols < V ? *v0 + h.vocab_cols : V;
        lora::Linear cls;
        cls.w = base_.w->output;
        cls.w.rows = v1 - *v0;
        cls.w.data = base_.w->output.row(*v0); // slices start on 16-row bounds: whole Rows8 groups
        return cls;
    };
    if (sub < h.n_vocab_parts) {
        if (chunk == 0 && sub == 0) loss_sum_ = 0.0;
        int v0 = 0;
        const lora::Linear cls = slice(sub, &v0);
        st = lora::linear_forward(*base_.k, c_.par, cls, xnf_ + static_cast<int64_t>(m0) * D, D, M, logits_ + v0, V, nullptr, ws,
                                  err);
    } else if (sub < h.n_vocab_parts + h.n_loss_parts) {
        const int r0 = (sub - h.n_vocab_parts) * h.loss_rows, r1 = r0 + h.loss_rows < M ? r0 + h.loss_rows : M;
        if (r0 < r1) {
            float *lg = logits_ + static_cast<int64_t>(r0) * V;
            loss_sum_ += crossentropy_forward(lg, losses_ + m0 + r0, targets_ + m0 + r0, r1 - r0, V);
            if (!forward_only_) crossentropy_backward(lg, targets_ + m0 + r0, r1 - r0, V, loss_scale_);
        }
    } else if (!forward_only_) {
        const int i = sub - h.n_vocab_parts - h.n_loss_parts;
        int v0 = 0;
        const lora::Linear cls = slice(i, &v0);
        lora::LinearGrads g;
        g.dx = dxn_ + static_cast<int64_t>(m0) * D;
        g.lddx = D;
        g.dx_accumulate = i > 0;
        st = lora::linear_backward(*base_.k, c_.par, cls, xnf_ + static_cast<int64_t>(m0) * D, D, nullptr, logits_ + v0, V, M, g,
                                   ws, err);
    }
    if (st != SM_OK && status_ == SM_OK) status_ = st;
}

// The head's other units: the final norm forward, and its backward (the classifier,
// loss and their gradients ran fused in the chunks).
void TrainModel::lora_head(int op) {
    const Hparams &hp = p_.hp();
    const int R = s_.rows(), D = hp.dim, L = hp.n_layers;
    float *xl = x_ + static_cast<int64_t>(L) * R * D;
    switch (op) {
    case kFinalNorm: rmsnorm_forward(xnf_, rstdf_, xl, base_.w->output_norm, R, D, hp.norm_eps); break;
    case kFinalNormBackward:
        memset(dx_, 0, sizeof(float) * static_cast<size_t>(R) * static_cast<size_t>(D));
        memset(norm_sink_, 0, sizeof(float) * static_cast<size_t>(D));
        rmsnorm_backward(dx_, norm_sink_, dxn_, xl, base_.w->output_norm, rstdf_, R, D);
        break;
    default: break; // kLoss, kLossBackward, kClassifierBackward: in the chunks
    }
}

// As layer_backward (model.cpp): dx_ carries dL/d(residual) through the layer.
void TrainModel::lora_layer_backward(int l, int op, int part, int n_parts) {
    int m0 = 0, m1 = 0;
    row_range(s_.rows(), part, n_parts, m0, m1);
    const Hparams &hp = p_.hp();
    const LayerWeights &B = base_.w->layers[l];
    const int D = hp.dim, H = hp.hidden_dim, QD = hp.q_dim(), KVD = hp.kv_dim(), QKV = p_.qkv_rows();
    const LayerActs A = acts(l);
    const float *x = A.x, *xn1 = A.xn1, *rstd1 = A.rstd1, *atty = A.atty, *xmid = A.xmid, *xn2 = A.xn2, *rstd2 = A.rstd2,
                *h13 = A.h13, *hs = A.hs;
    switch (op) {
    case kW2: lora_backward(l, Target::Down, hs, H, dx_, D, dhs_, false, m0, m1); break;
    case kSwiglu:
        swiglu_backward(c_, dh13_ + static_cast<int64_t>(m0) * 2 * H, dhs_ + static_cast<int64_t>(m0) * H,
                        h13 + static_cast<int64_t>(m0) * 2 * H, m1 - m0, H);
        break;
    case kW13:
        lora_backward(l, Target::Gate, xn2, D, dh13_, 2 * H, dxn_, false, m0, m1);
        lora_backward(l, Target::Up, xn2, D, dh13_ + H, 2 * H, dxn_, true, m0, m1);
        break;
    case kFfnNorm:
        memset(norm_sink_, 0, sizeof(float) * static_cast<size_t>(D));
        rmsnorm_backward(dx_ + m0 * D, norm_sink_, dxn_ + m0 * D, xmid + m0 * D, B.ffn_norm, rstd2 + m0, m1 - m0, D);
        break;
    case kWo: lora_backward(l, Target::O, atty, QD, dx_, D, datty_, false, m0, m1); break;
    case kAttention: attention_part(A, true, part, n_parts); break;
    case kRope: rope_qkv(dqkv_, true); break;
    case kQkv:
        lora_backward(l, Target::Q, xn1, D, dqkv_, QKV, dxn_, false, m0, m1);
        lora_backward(l, Target::K, xn1, D, dqkv_ + QD, QKV, dxn_, true, m0, m1);
        lora_backward(l, Target::V, xn1, D, dqkv_ + QD + KVD, QKV, dxn_, true, m0, m1);
        break;
    default:
        memset(norm_sink_, 0, sizeof(float) * static_cast<size_t>(D));
        rmsnorm_backward(dx_ + m0 * D, norm_sink_, dxn_ + m0 * D, x + m0 * D, B.attn_norm, rstd1 + m0, m1 - m0, D);
        break;
    }
}

} // namespace sm::train
