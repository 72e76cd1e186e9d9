// One session's KV cache: a ring of n_slots positions per layer and KV head, the first
// n_sinks kept forever as attention sinks, the rest overwritten oldest first, so a
// session generates indefinitely (see kern::AttnArgs for how positions are handled).
//
// Geometry: a query attends to the sinks plus a window of `window` positions; a forward
// pass writes up to max_batch keys before attending, so the ring holds at least
// window + max_batch - 1 slots and no query ever loses a key of its window, however the
// prompt was chunked. Layout and slot mapping are the kernels' (kern::AttnArgs).
// Elements are F32, or F16 (half the memory; keys and values rounded once, when written).
#pragma once
#include "kernels/kernels.h"

#include <cstddef>
#include <cstdint>

namespace sm {

struct KvGeometry {
    int n_layers = 0, n_kv_heads = 0, head_dim = 0;
    int n_ctx = 0;    // attention span: sinks + window
    int n_sinks = 0;
    int n_slots = 0;  // sink slots + ring
    int elem_bytes = 4; // 4: F32, 2: F16
    int window() const { return n_ctx - n_sinks; }
    size_t layer_elems() const { return static_cast<size_t>(n_kv_heads) * n_slots * head_dim; }
    size_t bytes() const { return 2 * static_cast<size_t>(elem_bytes) * static_cast<size_t>(n_layers) * layer_elems(); }
    static KvGeometry make(int n_layers, int n_kv_heads, int head_dim, int n_ctx, int n_sinks, int max_batch, bool f16) {
        KvGeometry g;
        g.elem_bytes = f16 ? 2 : 4;
        g.n_layers = n_layers;
        g.n_kv_heads = n_kv_heads;
        g.head_dim = head_dim;
        g.n_ctx = n_ctx;
        g.n_sinks = n_sinks < n_ctx ? n_sinks : n_ctx - 1;
        // Sink slots, then a ring of whole attention tiles (see kern::AttnArgs).
        const int ring = g.window() + max_batch - 1;
        g.n_slots = kern::kv_sink_slots(g.n_sinks) + (ring + kern::kAttnTile - 1) / kern::kAttnTile * kern::kAttnTile;
        return g;
    }
};

struct KvCache {
    const KvGeometry *geo = nullptr;
    uint8_t *data = nullptr; // [layer][k|v][kv_head][slot][head_dim], elements of geo->elem_bytes
    bool f16() const { return geo->elem_bytes == 2; }
    uint8_t *k(int layer) const { return data + (2 * static_cast<size_t>(layer)) * geo->layer_elems() * geo->elem_bytes; }
    uint8_t *v(int layer) const { return data + (2 * static_cast<size_t>(layer) + 1) * geo->layer_elems() * geo->elem_bytes; }
    // Element e of layer l's keys / values.
    uint8_t *k_at(int layer, int64_t e) const { return k(layer) + e * geo->elem_bytes; }
    uint8_t *v_at(int layer, int64_t e) const { return v(layer) + e * geo->elem_bytes; }
    int64_t slot(int64_t pos) const { return kern::attn_slot(pos, geo->n_sinks, geo->n_slots); }
};

} // namespace sm
