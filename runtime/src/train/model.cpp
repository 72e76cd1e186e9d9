#include "train/model.h"

#include <cstdio>
#include <cstring>

namespace sm::train {

// ---------------------------------------------------------------- parameters

bool ParamLayout::init(const Hparams &hp, bool tied) {
    if (hp.n_layers < 1 || hp.n_layers > kMaxLayers || hp.dim < 1 || hp.hidden_dim < 1 || hp.n_heads < 1 || hp.n_kv_heads < 1 ||
        hp.n_heads % hp.n_kv_heads != 0 || hp.head_dim < 2 || hp.head_dim % 2 != 0 || hp.n_vocab < 1)
        return false;
    hp_ = hp;
    tied_ = tied;
    const int64_t D = hp.dim, H = hp.hidden_dim;
    int64_t at = 0;
    for (int l = 0; l < hp.n_layers; l++) {
        layers_[l].attn_norm = at, at += D;
        layers_[l].ffn_norm = at, at += D;
    }
    output_norm_ = at, at += D;
    decay_from_ = at;
    tok_embd_ = at;
    at += static_cast<int64_t>(hp.n_vocab) * D;
    for (int l = 0; l < hp.n_layers; l++) {
        LayerParams &L = layers_[l];
        L.wqkv = at, at += qkv_rows() * D;
        L.wo = at, at += D * hp.q_dim();
        L.w13 = at, at += 2 * H * D;
        L.w2 = at, at += D * H;
    }
    output_ = at;
    if (!tied) at += static_cast<int64_t>(hp.n_vocab) * D;
    total_ = at;
    return true;
}

bool ParamLayout::init_lora(const Hparams &hp, bool tied, int rank, uint32_t targets) {
    targets &= (1u << lora::kTargets) - 1;
    if (rank < 1 || targets == 0 || !init(hp, tied)) return false;
    lora_rank_ = rank;
    lora_targets_ = targets;
    lora_count_ = 0;
    int64_t at = 0;
    for (int t = 0; t < lora::kTargets; t++) {
        lora_prefix_[t] = at;
        if (!(targets >> t & 1)) continue;
        const lora::Shape sh = lora::target_shape(hp, static_cast<lora::Target>(t));
        at += static_cast<int64_t>(rank) * (sh.n_in + sh.n_out);
        lora_count_++;
    }
    lora_layer_ = at;
    total_ = at * hp.n_layers;
    decay_from_ = 0;
    return true;
}

TensorSlot ParamLayout::tensor(int i) const {
    TensorSlot s{};
    if (lora()) { // layer-major, targets in order, A then B
        const int per_layer = 2 * lora_count_, l = i / per_layer;
        int k = i % per_layer / 2, t = 0;
        for (; t < lora::kTargets; t++)
            if (lora_targets_ >> t & 1 && k-- == 0) break;
        const lora::Target tt = static_cast<lora::Target>(t);
        const lora::Shape sh = lora::target_shape(hp_, tt);
        const bool is_b = i % 2 == 1;
        snprintf(s.name, sizeof s.name, "blk.%d.%s.weight.lora_%c", l, lora::target_tensor(tt), is_b ? 'b' : 'a');
        s.offset = is_b ? lora_b(l, tt) : lora_a(l, tt);
        s.rows = is_b ? sh.n_out : lora_rank_;
        s.cols = is_b ? lora_rank_ : sh.n_in;
        s.decay = true;
        s.layer = l;
        s.target = tt;
        s.is_b = is_b;
        return s;
    }
    const int D = hp_.dim, H = hp_.hidden_dim;
    auto set = [&](const char *name, int64_t off, int rows, int cols, bool decay) {
        snprintf(s.name, sizeof s.name, "%s", name);
        s.offset = off;
        s.rows = rows;
        s.cols = cols;
        s.decay = decay;
    };
    if (i == 0) {
        set("token_embd.weight", tok_embd_, hp_.n_vocab, D, true);
        return s;
    }
    i--;
    if (i < 9 * hp_.n_layers) {
        const int l = i / 9;
        const LayerParams &L = layers_[l];
        char name[48];
        const int64_t q = static_cast<int64_t>(hp_.q_dim()) * D, kv = static_cast<int64_t>(hp_.kv_dim()) * D;
        switch (i % 9) {
        case 0: snprintf(name, sizeof name, "blk.%d.attn_norm.weight", l), set(name, L.attn_norm, 1, D, false); break;
        case 1: snprintf(name, sizeof name, "blk.%d.attn_q.weight", l), set(name, L.wqkv, hp_.q_dim(), D, true); break;
        case 2: snprintf(name, sizeof name, "blk.%d.attn_k.weight", l), set(name, L.wqkv + q, hp_.kv_dim(), D, true); break;
        case 3: snprintf(name, sizeof name, "blk.%d.attn_v.weight", l), set(name, L.wqkv + q + kv, hp_.kv_dim(), D, true); break;
        case 4: snprintf(name, sizeof name, "blk.%d.attn_output.weight", l), set(name, L.wo, D, hp_.q_dim(), true); break;
        case 5: snprintf(name, sizeof name, "blk.%d.ffn_norm.weight", l), set(name, L.ffn_norm, 1, D, false); break;
        case 6: snprintf(name, sizeof name, "blk.%d.ffn_gate.weight", l), set(name, L.w13, H, D, true); break;
        case 7:
            snprintf(name, sizeof name, "blk.%d.ffn_up.weight", l), set(name, L.w13 + static_cast<int64_t>(H) * D, H, D, true);
            break;
        default: snprintf(name, sizeof name, "blk.%d.ffn_down.weight", l), set(name, L.w2, D, H, true); break;
        }
        return s;
    }
    i -= 9 * hp_.n_layers;
    if (i == 0) set("output_norm.weight", output_norm_, 1, D, false);
    else set("output.weight", output_, hp_.n_vocab, D, true);
    return s;
}

// ---------------------------------------------------------------- activations

size_t TrainModel::activation_bytes(const ParamLayout &p, BatchShape s, const FrozenBase *base) {
    TrainModel m;
    Bump b = Bump::measuring();
    m.init(p, s, b, base);
    return b.used;
}

void TrainModel::init(const ParamLayout &p, BatchShape s, Bump &a, const FrozenBase *base) {
    p_ = p;
    s_ = s;
    lora_ = p.lora() && base && base->w;
    const Hparams &hp = p.hp();
    const size_t R = static_cast<size_t>(s.rows()), L = static_cast<size_t>(hp.n_layers);
    const size_t LA = s.recompute ? 1 : L; // layers whose activations are held at once
    const size_t D = static_cast<size_t>(hp.dim), H = static_cast<size_t>(hp.hidden_dim), QD = static_cast<size_t>(hp.q_dim());
    const size_t QKV = static_cast<size_t>(p.qkv_rows()), V = static_cast<size_t>(hp.n_vocab);
    tokens_ = a.take_n<int32_t>(R);
    targets_ = a.take_n<int32_t>(R);
    rope_cs_ = a.take_n<float>(static_cast<size_t>(s.T) * static_cast<size_t>(hp.head_dim));
    x_ = a.take_n<float>((L + 1) * R * D);
    xn1_ = a.take_n<float>(LA * R * D);
    rstd1_ = a.take_n<float>(LA * R);
    qkv_ = a.take_n<float>(LA * R * QKV);
    att_ = a.take_n<float>(LA * static_cast<size_t>(s.B) * static_cast<size_t>(hp.n_heads) * static_cast<size_t>(s.T) *
                           static_cast<size_t>(s.T));
    atty_ = a.take_n<float>(LA * R * QD);
    xmid_ = a.take_n<float>(LA * R * D);
    xn2_ = a.take_n<float>(LA * R * D);
    rstd2_ = a.take_n<float>(LA * R);
    h13_ = a.take_n<float>(LA * R * 2 * H);
    hs_ = a.take_n<float>(LA * R * H);
    xnf_ = a.take_n<float>(R * D);
    rstdf_ = a.take_n<float>(R);
    logits_ = a.take_n<float>((lora_ ? lora_head_rows(s) : R) * V); // LoRA mode: one chunk of rows at a time
    losses_ = a.take_n<float>(R);
    dx_ = a.take_n<float>(R * D);
    dxn_ = a.take_n<float>(R * D);
    dqkv_ = a.take_n<float>(R * QKV);
    datty_ = a.take_n<float>(R * QD);
    dh13_ = a.take_n<float>(R * 2 * H);
    dhs_ = a.take_n<float>(R * H);
    attn_scratch_ = a.take_n<float>(
        attention_scratch_floats(AttnShape{s.B, s.T, hp.n_heads, hp.n_kv_heads, hp.head_dim, 0, 0, 0}));
    if (lora_) {
        init_lora(*base, a);
        if (!a.is_measuring()) rope_table(rope_cs_, s.T, hp.head_dim, hp.rope_theta);
        return;
    }
    // the products' scratch: the largest of qkv, wo, w13, w2, classifier
    size_t maxNK = QKV * D;
    auto widen = [&](size_t n, size_t k) { maxNK = n * k > maxNK ? n * k : maxNK; };
    widen(D, QD);
    widen(2 * H, D);
    widen(D, H);
    widen(V, D);
    ms_.dw = a.take_n<float>(maxNK);
    norm_dw_ = a.take_n<float>(static_cast<size_t>(row_blocks()) * D);
    loss_blocks_ = a.take_n<double>(static_cast<size_t>(row_blocks()));
    if (!a.is_measuring()) rope_table(rope_cs_, s.T, hp.head_dim, hp.rope_theta);
}

void TrainModel::set_batch(const int32_t *tokens, const int32_t *targets, float loss_scale, bool first_micro) {
    memcpy(tokens_, tokens, sizeof(int32_t) * static_cast<size_t>(s_.rows()));
    memcpy(targets_, targets, sizeof(int32_t) * static_cast<size_t>(s_.rows()));
    loss_scale_ = loss_scale;
    first_micro_ = first_micro;
}

// Gradients no product writes first: norms, and the embedding when it is not also the
// classifier (whose product writes it before the embedding's backward adds to it).
void TrainModel::zero_fresh_grads() {
    const Hparams &hp = p_.hp();
    const size_t D = static_cast<size_t>(hp.dim);
    for (int l = 0; l < hp.n_layers; l++) {
        memset(G(p_.layer(l).attn_norm), 0, sizeof(float) * D);
        memset(G(p_.layer(l).ffn_norm), 0, sizeof(float) * D);
    }
    memset(G(p_.output_norm()), 0, sizeof(float) * D);
    if (!p_.tied()) memset(G(p_.tok_embd()), 0, sizeof(float) * D * static_cast<size_t>(hp.n_vocab));
}

// ---------------------------------------------------------------- units

namespace {

// Part `part` of n_parts of [0, n): whole 16-column blocks (tasks when block is 1).
void part_range(int n, int block, int part, int n_parts, int &c0, int &c1) {
    const int blocks = (n + block - 1) / block;
    c0 = static_cast<int>(static_cast<int64_t>(blocks) * part / n_parts) * block;
    c1 = static_cast<int>(static_cast<int64_t>(blocks) * (part + 1) / n_parts) * block;
    if (c1 > n) c1 = n;
}

} // namespace

// dx += the norm's input gradient (row by row); dw += its weight gradient, each row
// block's sum first, then the blocks in order.
void TrainModel::rmsnorm_backward_rows(float *dx, float *dw, const float *dout, const float *x, const float *w,
                                       const float *rstd) {
    const int D = p_.hp().dim;
    for_row_blocks(kRowBlock, [&](int b, int r0, int r1) {
        float *part = norm_dw_ + static_cast<int64_t>(b) * D;
        memset(part, 0, sizeof(float) * static_cast<size_t>(D));
        const int64_t o = static_cast<int64_t>(r0) * D;
        rmsnorm_backward(dx + o, part, dout + o, x + o, w, rstd + r0, r1 - r0, D);
    });
    for (int b = 0; b < row_blocks(); b++)
        for (int i = 0; i < D; i++) dw[i] += norm_dw_[static_cast<int64_t>(b) * D + i];
}

TrainModel::LayerActs TrainModel::acts(int l) const {
    const Hparams &hp = p_.hp();
    const int64_t R = s_.rows(), D = hp.dim, H = hp.hidden_dim, k = slot(l);
    return LayerActs{x_ + l * R * D,
                     xn1_ + k * R * D,
                     rstd1_ + k * R,
                     qkv_ + k * R * p_.qkv_rows(),
                     att_ + k * s_.B * hp.n_heads * s_.T * s_.T,
                     atty_ + k * R * hp.q_dim(),
                     xmid_ + k * R * D,
                     xn2_ + k * R * D,
                     rstd2_ + k * R,
                     h13_ + k * R * 2 * H,
                     hs_ + k * R * H,
                     x_ + (l + 1) * R * D};
}

void TrainModel::rope_qkv(float *qkv, bool backward) {
    const Hparams &hp = p_.hp();
    const int QKV = p_.qkv_rows(), QD = hp.q_dim();
    auto rope = backward ? rope_backward : rope_forward;
    for_row_blocks(s_.T, [&](int, int r0, int r1) { // whole sequences: a row's position is its index mod T
        float *q = qkv + static_cast<int64_t>(r0) * QKV;
        rope(q, QKV, r1 - r0, s_.T, hp.n_heads, hp.head_dim, rope_cs_);
        rope(q + QD, QKV, r1 - r0, s_.T, hp.n_kv_heads, hp.head_dim, rope_cs_);
    });
}

void TrainModel::attention_part(const LayerActs &la, bool backward, int part, int n_parts) {
    const Hparams &hp = p_.hp();
    const int QKV = p_.qkv_rows(), QD = hp.q_dim(), KVD = hp.kv_dim();
    const AttnShape a{s_.B, s_.T, hp.n_heads, hp.n_kv_heads, hp.head_dim, QKV, QKV, QD};
    const int n = backward ? attention_backward_tasks(a) : attention_forward_tasks(a);
    const int t0 = static_cast<int>(static_cast<int64_t>(n) * part / n_parts),
              t1 = static_cast<int>(static_cast<int64_t>(n) * (part + 1) / n_parts);
    const float *q = la.qkv, *k = la.qkv + QD, *v = la.qkv + QD + KVD;
    if (backward) attention_backward(c_, dqkv_, dqkv_ + QD, dqkv_ + QD + KVD, datty_, la.att, q, k, v, a, attn_scratch_, t0, t1);
    else attention_forward(c_, la.atty, la.att, q, k, v, a, t0, t1);
}

TrainModel::UnitPos TrainModel::unit_pos(int u) const {
    const int L = p_.hp().n_layers;
    if (u == 0) return {UnitPos::Embed, -1, 0};
    u -= 1;
    if (u < kLayerOps * L) return {UnitPos::Forward, u / kLayerOps, u % kLayerOps};
    u -= kLayerOps * L;
    if (u < kHeadOps) return {UnitPos::Head, -1, u};
    u -= kHeadOps;
    const int block = (s_.recompute ? 2 : 1) * kLayerOps; // per layer, last layer first
    if (u < block * L) {
        const int l = L - 1 - u / block, w = u % block;
        if (s_.recompute && w < kLayerOps) return {UnitPos::Recompute, l, w};
        return {UnitPos::Backward, l, kLayerOps - 1 - (w - (s_.recompute ? kLayerOps : 0))};
    }
    return {UnitPos::EmbedBackward, -1, 0};
}

int TrainModel::split_size(int u, int *block) const {
    *block = 16;
    if (lora_) return 0; // the LoRA units have their own parts (lora_parts)
    const Hparams &hp = p_.hp();
    const int D = hp.dim, H = hp.hidden_dim;
    const UnitPos at = unit_pos(u);
    switch (at.kind) {
    case UnitPos::Forward:
    case UnitPos::Recompute:
        switch (at.op) {
        case kQkv: return p_.qkv_rows();
        case kAttention: return *block = 1, s_.B * hp.n_heads;
        case kWo: return D;
        case kW13: return 2 * H;
        case kW2: return D;
        default: return 0;
        }
    case UnitPos::Head: return at.op == kClassifier ? hp.n_vocab : at.op == kClassifierBackward ? D : 0;
    case UnitPos::Backward:
        switch (at.op) {
        case kQkv: return D;
        case kAttention: return *block = 1, s_.B * hp.n_kv_heads;
        case kWo: return hp.q_dim();
        case kW13: return D;
        case kW2: return H;
        default: return 0;
        }
    default: return 0;
    }
}

int TrainModel::parts(int u) const {
    if (lora_) return lora_parts(u);
    int block = 16;
    const int n = split_size(u, &block);
    if (n == 0) return 1;
    const int most = (n + block - 1) / block;
    // kPartFlops per thread: a part takes about as long at any width, with fewer
    // hand-offs (each a wait on the slowest task) when there are more threads
    const int width = c_.par ? c_.par->width() : 1;
    int k = static_cast<int>(unit_flops(u) / (kPartFlops * width) + 0.5);
    if (k < 1) k = 1;
    return k < most ? k : most;
}

void TrainModel::run_part(int u, int part) {
    const int D = p_.hp().dim, R = s_.rows();
    const int n = parts(u);
    if (lora_) return lora_run(u, part, n);
    const UnitPos at = unit_pos(u);
    switch (at.kind) {
    case UnitPos::Embed:
        if (first_micro_) zero_fresh_grads();
        embedding_forward(x_, tokens_, W(p_.tok_embd()), R, D);
        return;
    case UnitPos::Forward: return layer_forward(at.layer, at.op, part, n);
    case UnitPos::Recompute: return layer_forward(at.layer, at.op, part, n);
    case UnitPos::Head: return head(at.op, part, n);
    case UnitPos::Backward: return layer_backward(at.layer, at.op, part, n);
    default: embedding_backward(G(p_.tok_embd()), tokens_, dx_, R, D);
    }
}

void TrainModel::layer_forward(int l, int op, int part, int n_parts) {
    const Hparams &hp = p_.hp();
    const LayerParams &P = p_.layer(l);
    const int R = s_.rows(), D = hp.dim, H = hp.hidden_dim, QD = hp.q_dim(), QKV = p_.qkv_rows();
    const LayerActs A = acts(l); // plain names: lambdas cannot capture structured bindings in C++17
    float *x = A.x, *xn1 = A.xn1, *rstd1 = A.rstd1, *qkv = A.qkv, *atty = A.atty, *xmid = A.xmid, *xn2 = A.xn2, *rstd2 = A.rstd2,
          *h13 = A.h13, *hs = A.hs, *xout = A.xout;
    int c0 = 0, c1 = 0;
    auto cols = [&](int n) { part_range(n, 16, part, n_parts, c0, c1); };
    switch (op) {
    case kAttnNorm:
        for_row_blocks(kRowBlock, [&](int, int r0, int r1) {
            const int64_t o = static_cast<int64_t>(r0) * D;
            rmsnorm_forward(xn1 + o, rstd1 + r0, x + o, W(P.attn_norm), r1 - r0, D, hp.norm_eps);
        });
        break;
    case kQkv: cols(QKV), matmul_forward(c_, qkv, QKV, xn1, D, W(P.wqkv), R, QKV, D, c0, c1); break;
    case kRope: rope_qkv(qkv, false); break;
    case kAttention: attention_part(A, false, part, n_parts); break;
    case kWo:
        cols(D);
        matmul_forward(c_, xmid, D, atty, QD, W(P.wo), R, D, QD, c0, c1, x); // + the residual
        break;
    case kFfnNorm:
        for_row_blocks(kRowBlock, [&](int, int r0, int r1) {
            const int64_t o = static_cast<int64_t>(r0) * D;
            rmsnorm_forward(xn2 + o, rstd2 + r0, xmid + o, W(P.ffn_norm), r1 - r0, D, hp.norm_eps);
        });
        break;
    case kW13: cols(2 * H), matmul_forward(c_, h13, 2 * H, xn2, D, W(P.w13), R, 2 * H, D, c0, c1); break;
    case kSwiglu:
        for_row_blocks(kRowBlock, [&](int, int r0, int r1) {
            swiglu_forward(c_, hs + static_cast<int64_t>(r0) * H, h13 + static_cast<int64_t>(r0) * 2 * H, r1 - r0, H);
        });
        break;
    default:
        cols(D);
        matmul_forward(c_, xout, D, hs, H, W(P.w2), R, D, H, c0, c1, xmid);
        break;
    }
}

void TrainModel::head(int op, int part, int n_parts) {
    const Hparams &hp = p_.hp();
    const int R = s_.rows(), D = hp.dim, V = hp.n_vocab, L = hp.n_layers;
    float *xl = x_ + static_cast<int64_t>(L) * R * D;
    int c0 = 0, c1 = 0;
    switch (op) {
    case kFinalNorm:
        for_row_blocks(kRowBlock, [&](int, int r0, int r1) {
            const int64_t o = static_cast<int64_t>(r0) * D;
            rmsnorm_forward(xnf_ + o, rstdf_ + r0, xl + o, W(p_.output_norm()), r1 - r0, D, hp.norm_eps);
        });
        break;
    case kClassifier:
        part_range(V, 16, part, n_parts, c0, c1);
        matmul_forward(c_, logits_, V, xnf_, D, W(p_.output()), R, V, D, c0, c1);
        break;
    case kLoss:
        for_row_blocks(kRowBlock, [&](int b, int r0, int r1) {
            loss_blocks_[b] = crossentropy_forward(logits_ + static_cast<int64_t>(r0) * V, losses_ + r0, targets_ + r0, r1 - r0,
                                                   V);
        });
        loss_sum_ = 0.0;
        for (int b = 0; b < row_blocks(); b++) loss_sum_ += loss_blocks_[b];
        break;
    case kLossBackward:
        for_row_blocks(kRowBlock, [&](int, int r0, int r1) {
            crossentropy_backward(logits_ + static_cast<int64_t>(r0) * V, targets_ + r0, r1 - r0, V, loss_scale_);
        });
        break;
    case kClassifierBackward:
        part_range(D, 16, part, n_parts, c0, c1);
        matmul_backward(c_, dxn_, D, G(p_.output()), !first_micro_, logits_, V, xnf_, D, W(p_.output()), R, V, D, ms_, c0, c1);
        break;
    default:
        memset(dx_, 0, sizeof(float) * static_cast<size_t>(R) * static_cast<size_t>(D));
        rmsnorm_backward_rows(dx_, G(p_.output_norm()), dxn_, xl, W(p_.output_norm()), rstdf_);
        break;
    }
}

// dx_ holds dL/d(layer output) on entry to the layer's first backward op (kW2) and
// dL/d(layer input) after its last (kAttnNorm): the residual passes it through and the
// norms' backwards add their share.
void TrainModel::layer_backward(int l, int op, int part, int n_parts) {
    const Hparams &hp = p_.hp();
    const LayerParams &P = p_.layer(l);
    const int R = s_.rows(), D = hp.dim, H = hp.hidden_dim, QD = hp.q_dim(), QKV = p_.qkv_rows();
    const LayerActs A = acts(l);
    const float *x = A.x, *xn1 = A.xn1, *rstd1 = A.rstd1, *atty = A.atty, *xmid = A.xmid, *xn2 = A.xn2, *rstd2 = A.rstd2,
                *h13 = A.h13, *hs = A.hs;
    const bool acc = !first_micro_;
    int c0 = 0, c1 = 0;
    auto cols = [&](int n) { part_range(n, 16, part, n_parts, c0, c1); };
    switch (op) {
    case kW2: cols(H), matmul_backward(c_, dhs_, H, G(P.w2), acc, dx_, D, hs, H, W(P.w2), R, D, H, ms_, c0, c1); break;
    case kSwiglu:
        for_row_blocks(kRowBlock, [&](int, int r0, int r1) {
            const int64_t o = static_cast<int64_t>(r0);
            swiglu_backward(c_, dh13_ + o * 2 * H, dhs_ + o * H, h13 + o * 2 * H, r1 - r0, H);
        });
        break;
    case kW13:
        cols(D), matmul_backward(c_, dxn_, D, G(P.w13), acc, dh13_, 2 * H, xn2, D, W(P.w13), R, 2 * H, D, ms_, c0, c1);
        break;
    case kFfnNorm: rmsnorm_backward_rows(dx_, G(P.ffn_norm), dxn_, xmid, W(P.ffn_norm), rstd2); break;
    case kWo: cols(QD), matmul_backward(c_, datty_, QD, G(P.wo), acc, dx_, D, atty, QD, W(P.wo), R, D, QD, ms_, c0, c1); break;
    case kAttention: attention_part(A, true, part, n_parts); break;
    case kRope: rope_qkv(dqkv_, true); break;
    case kQkv:
        cols(D), matmul_backward(c_, dxn_, D, G(P.wqkv), acc, dqkv_, QKV, xn1, D, W(P.wqkv), R, QKV, D, ms_, c0, c1);
        break;
    default: rmsnorm_backward_rows(dx_, G(P.attn_norm), dxn_, x, W(P.attn_norm), rstd1); break;
    }
}

double TrainModel::unit_flops(int u) const {
    const Hparams &hp = p_.hp();
    const double R = s_.rows(), D = hp.dim, H = hp.hidden_dim, QD = hp.q_dim(), QKV = p_.qkv_rows(), V = hp.n_vocab;
    const double attn = 2.0 * s_.B * hp.n_heads * (s_.T * (s_.T + 1) / 2.0) * hp.head_dim;
    auto layer_op = [&](int op, double mult) {
        switch (op) {
        case kQkv: return 2 * R * QKV * D * mult;
        case kAttention: return 2 * attn * mult;
        case kWo: return 2 * R * D * QD * mult;
        case kW13: return 4 * R * H * D * mult;
        case kSwiglu: return 10 * R * H;
        case kW2: return 2 * R * D * H * mult;
        default: return 8 * R * D;
        }
    };
    const UnitPos at = unit_pos(u);
    switch (at.kind) {
    case UnitPos::Forward:
    case UnitPos::Recompute: return layer_op(at.op, 1.0);
    case UnitPos::Head: return at.op == kClassifier ? 2 * R * V * D : at.op == kClassifierBackward ? 4 * R * V * D : 8 * R * V;
    case UnitPos::Backward: return layer_op(at.op, 2.0);
    default: return R * D;
    }
}

} // namespace sm::train
