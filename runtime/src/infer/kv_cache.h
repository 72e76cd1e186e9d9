// One session's KV cache: a ring of n_slots positions per layer and KV head, the first
// n_sinks kept forever as attention sinks, the rest overwritten oldest first, so a
// session generates indefinitely (see kern::AttnArgs for how positions are handled).
//
// Geometry: a query attends to the sinks plus a window of `window` positions; a forward
// pass writes up to max_batch keys before attending, so the ring holds at least
// window + max_batch - 1 slots and no query ever loses a key of its window, however the
// prompt was chunked. Layout and slot mapping are the kernels' (kern::AttnArgs).
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
    int window() const { return n_ctx - n_sinks; }
    size_t layer_floats() const { return static_cast<size_t>(n_kv_heads) * n_slots * head_dim; }
    size_t bytes() const { return 2 * sizeof(float) * static_cast<size_t>(n_layers) * layer_floats(); }
    static KvGeometry make(int n_layers, int n_kv_heads, int head_dim, int n_ctx, int n_sinks, int max_batch) {
        KvGeometry g;
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
    float *data = nullptr; // [layer][k|v][kv_head][slot][head_dim]
    float *k(int layer) const { return data + (2 * static_cast<size_t>(layer)) * geo->layer_floats(); }
    float *v(int layer) const { return data + (2 * static_cast<size_t>(layer) + 1) * geo->layer_floats(); }
    int64_t slot(int64_t pos) const { return kern::attn_slot(pos, geo->n_sinks, geo->n_slots); }
};

} // namespace sm
