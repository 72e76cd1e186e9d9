#include "train/weights_io.h"

#include <cstring>

namespace sm::train {

namespace {

// The model's matrix (or vector) behind tensor slot i, in ParamLayout::tensor order.
struct Target {
    kern::Matrix *m = nullptr;
    float *vec = nullptr;
};

Target target(Weights &w, const ParamLayout &p, int i) {
    Target t;
    if (i == 0) {
        t.m = &w.tok_embd;
        return t;
    }
    i--;
    if (i < 9 * p.hp().n_layers) {
        LayerWeights &L = w.layers[i / 9];
        switch (i % 9) {
        case 0: t.vec = const_cast<float *>(L.attn_norm); break;
        case 1: t.m = &L.wq; break;
        case 2: t.m = &L.wk; break;
        case 3: t.m = &L.wv; break;
        case 4: t.m = &L.wo; break;
        case 5: t.vec = const_cast<float *>(L.ffn_norm); break;
        case 6: t.m = &L.w1; break;
        case 7: t.m = &L.w3; break;
        default: t.m = &L.w2; break;
        }
        return t;
    }
    i -= 9 * p.hp().n_layers;
    if (i == 0) t.vec = const_cast<float *>(w.output_norm);
    else t.m = &w.output;
    return t;
}

} // namespace

bool weights_match(const ParamLayout &p, const Weights &w) {
    Weights &ww = const_cast<Weights &>(w);
    if (w.n_layers != p.hp().n_layers) return false;
    for (int i = 0; i < p.n_tensors(); i++) {
        const TensorSlot s = p.tensor(i);
        const Target t = target(ww, p, i);
        if (t.m && (t.m->rows != s.rows || t.m->cols != s.cols)) return false;
        if (!t.m && !t.vec) return false;
    }
    return true;
}

void gather_params(const ParamLayout &p, const Weights &w, float *out) {
    Weights &ww = const_cast<Weights &>(w);
    for (int i = 0; i < p.n_tensors(); i++) {
        const TensorSlot s = p.tensor(i);
        const Target t = target(ww, p, i);
        if (t.vec) memcpy(out + s.offset, t.vec, sizeof(float) * static_cast<size_t>(s.cols));
        else
            for (int r = 0; r < s.rows; r++) kern::matrix_row(*t.m, r, out + s.offset + static_cast<int64_t>(r) * s.cols);
    }
}

bool can_publish(const Weights &w) {
    auto f32 = [](const kern::Matrix &m) { return m.type == TensorType::F32; };
    if (!f32(w.tok_embd) || !f32(w.output)) return false;
    for (int l = 0; l < w.n_layers; l++) {
        const LayerWeights &L = w.layers[l];
        if (!f32(L.wq) || !f32(L.wk) || !f32(L.wv) || !f32(L.wo) || !f32(L.w1) || !f32(L.w2) || !f32(L.w3)) return false;
    }
    return true;
}

namespace {

// Rows [r0, r1) of tensor slot s of params into dst, in the layout of the model's matrix
// (or as a vector). Rows8 ranges start on a group of 8 rows.
void write_tensor(const TensorSlot &s, const Target &t, const float *params, float *dst, int64_t r0, int64_t r1) {
    const int64_t cols = s.cols;
    const float *src = params + s.offset;
    if (t.vec || t.m->layout == kern::Layout::Rows) {
        memcpy(dst + r0 * cols, src + r0 * cols, sizeof(float) * static_cast<size_t>((r1 - r0) * cols));
        return;
    }
    // Rows8 F32: row j of each 8-row group at element 8 * k + j of the group
    for (int64_t r = r0; r < r1; r++) {
        float *g = dst + (r / 8) * 8 * cols;
        const float *row = src + r * cols;
        for (int64_t k = 0; k < cols; k++) g[8 * k + r % 8] = row[k];
    }
}

float *data_of(const Target &t) { return t.vec ? t.vec : static_cast<float *>(const_cast<void *>(t.m->data)); }

} // namespace

void publish_params(const ParamLayout &p, Weights &w, const float *params) {
    for (int i = 0; i < p.n_tensors(); i++) {
        const Target t = target(w, p, i);
        write_tensor(p.tensor(i), t, params, data_of(t), 0, p.tensor(i).rows);
    }
}

void init_staging(const ParamLayout &p, float *buffer, float **alt) {
    for (int i = 0; i < p.n_tensors(); i++) alt[i] = buffer + p.tensor(i).offset;
}

void stage_tensor(const ParamLayout &p, const Weights &w, const float *params, float *const *alt, int i, int row0, int row1) {
    const TensorSlot s = p.tensor(i);
    write_tensor(s, target(const_cast<Weights &>(w), p, i), params, alt[i], row0, row1 < 0 ? s.rows : row1);
}

void swap_staged(const ParamLayout &p, Weights &w, float **alt) {
    for (int i = 0; i < p.n_tensors(); i++) {
        const Target t = target(w, p, i);
        float *now = data_of(t);
        if (t.vec) {
            // the norm vectors are named by const pointers in LayerWeights / Weights
            const int l = (i - 1) / 9;
            if (i == 0 || i > 9 * p.hp().n_layers) w.output_norm = alt[i];
            else if ((i - 1) % 9 == 0) w.layers[l].attn_norm = alt[i];
            else w.layers[l].ffn_norm = alt[i];
        } else {
            t.m->data = alt[i];
        }
        alt[i] = now;
    }
    if (p.tied()) w.output.data = w.tok_embd.data;
}

} // namespace sm::train

namespace sm::train {

void unstage(const ParamLayout &p, Weights &w, float **alt) {
    for (int i = 0; i < p.n_tensors(); i++) {
        const TensorSlot s = p.tensor(i);
        const Target t = target(w, p, i);
        memcpy(alt[i], data_of(t), sizeof(float) * static_cast<size_t>(s.rows) * static_cast<size_t>(s.cols));
    }
    swap_staged(p, w, alt);
}

} // namespace sm::train
