#include "model/weights.h"
#include "quant/quant.h"

#include <cstring>

namespace sm {

namespace {

size_t stored_bytes(const TensorSource &t, bool vector) {
    if (vector || t.l2c_group) return static_cast<size_t>(t.ne0 * t.ne1) * sizeof(float);
    return row_bytes(t.type, t.ne0) * static_cast<size_t>(t.ne1);
}

const float *place_vector(const TensorSource &t, Bump &arena, Weights &w) {
    float *dst = arena.take_n<float>(static_cast<size_t>(t.ne0 * t.ne1));
    w.bytes += stored_bytes(t, true);
    w.type_tensors[static_cast<uint32_t>(TensorType::F32)]++;
    w.type_bytes[static_cast<uint32_t>(TensorType::F32)] += stored_bytes(t, true);
    w.n_params += t.ne0 * t.ne1;
    if (dst) tensor_to_f32(t, dst); // F32, F16 or BF16: checked when the file was opened
    return dst;
}

kern::Matrix place_matrix(const TensorSource &t, Bump &arena, Weights &w, uint32_t rows8_types) {
    kern::Matrix m = matrix_shape(t);
    if (kern::wants_rows8(rows8_types, m.type, t.ne1, t.ne0)) m.layout = kern::Layout::Rows8;
    const size_t bytes = stored_bytes(t, false);
    uint8_t *dst = static_cast<uint8_t *>(arena.take(bytes));
    w.bytes += bytes;
    w.type_tensors[static_cast<uint32_t>(m.type) & 31]++;
    w.type_bytes[static_cast<uint32_t>(m.type) & 31] += bytes;
    w.n_params += t.ne0 * t.ne1;
    if (dst) {
        if (t.l2c_group) tensor_to_f32(t, reinterpret_cast<float *>(dst));
        else if (m.layout != kern::Layout::Rows8 || !quant::interleave_rows8(m.type, t.data, dst, t.ne1, t.ne0)) {
            memcpy(dst, t.data, bytes); // (a type the interleaver does not take stays plain)
            m.layout = kern::Layout::Rows;
        }
    }
    m.data = dst;
    return m;
}

} // namespace

kern::Matrix matrix_shape(const TensorSource &t) {
    kern::Matrix m;
    m.type = t.l2c_group ? TensorType::F32 : t.type;
    m.rows = static_cast<int32_t>(t.ne1);
    m.cols = static_cast<int32_t>(t.ne0);
    m.row_bytes = row_bytes(m.type, t.ne0);
    return m;
}

sm_status bind_weights(const ModelFile &f, Bump &arena, Weights &w, Error &err, uint32_t rows8_types) {
    const Hparams &hp = f.hp;
    w = Weights{};
    w.n_layers = hp.n_layers;
    w.layers = arena.take_n<LayerWeights>(static_cast<size_t>(hp.n_layers));
    // Matrices in the order a token uses them, so a GEMV's prefetch running past the end of
    // one matrix (kernels/common/gemm_float.h) fetches the start of the next.
    // The embedding is looked up one row per token: the plain layout, unless it is also the
    // classifier (tied), whose product with every token outweighs the strided row reads.
    w.tok_embd = place_matrix(f.tok_embd, arena, w, f.tied() ? rows8_types : 0);
    size_t by_type[32] = {0};
    for (int l = 0; l < hp.n_layers; l++) {
        const LayerSources &s = f.layers[static_cast<size_t>(l)];
        LayerWeights L;
        L.attn_norm = place_vector(s.attn_norm, arena, w);
        L.ffn_norm = place_vector(s.ffn_norm, arena, w);
        L.wq = place_matrix(s.wq, arena, w, rows8_types);
        L.wk = place_matrix(s.wk, arena, w, rows8_types);
        L.wv = place_matrix(s.wv, arena, w, rows8_types);
        L.wo = place_matrix(s.wo, arena, w, rows8_types);
        L.w1 = place_matrix(s.w1, arena, w, rows8_types); // gate, up, down: the order of use
        L.w3 = place_matrix(s.w3, arena, w, rows8_types);
        L.w2 = place_matrix(s.w2, arena, w, rows8_types);
        for (const kern::Matrix *m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w1, &L.w2, &L.w3})
            by_type[static_cast<uint32_t>(m->type) & 31] += m->row_bytes * static_cast<size_t>(m->rows);
        if (w.layers) w.layers[l] = L;
    }
    w.output_norm = place_vector(f.output_norm, arena, w);
    w.output = f.tied() ? w.tok_embd : place_matrix(f.output, arena, w, rows8_types);
    size_t best = 0;
    for (uint32_t t = 0; t < 32; t++)
        if (by_type[t] > best) best = by_type[t], w.main_type = static_cast<TensorType>(t);
    if (arena.overflowed()) return err.set(SM_ERR_INTERNAL, "weights overflow their planned block");
    return SM_OK;
}

} // namespace sm
