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
    int n_ctx = 0; // attention span: sinks + window
    int n_sinks = 0;
    int n_slots = 0;    // sink slots + ring
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

    // The bytes that hold positions [0, n_past) (the sink slots, the ring as far as it is
    // filled, whole key blocks), as spans f(pointer, bytes) in a fixed order: what a saved
    // session stores. Slots past n_past inside a block ride along; a forward rewrites them
    // before any query reads them.
    template <class F> void each_used_span(int64_t n_past, F &&f) const {
        int64_t range[2][2];
        used_slots(n_past, range);
        for (int l = 0; l < geo->n_layers; l++)
            for (int h = 0; h < geo->n_kv_heads; h++)
                for (const auto &r : range) {
                    const size_t n = static_cast<size_t>(geo->elem_bytes) * static_cast<size_t>(r[1] - r[0]) * geo->head_dim;
                    f(k_at(l, kern::k_index(h, r[0], 0, geo->head_dim, geo->n_slots)), n);
                    f(v_at(l, (static_cast<int64_t>(h) * geo->n_slots + r[0]) * geo->head_dim), n);
                }
    }
    size_t used_bytes(int64_t n_past) const {
        size_t total = 0;
        each_used_span(n_past, [&](uint8_t *, size_t n) { total += n; });
        return total;
    }

private:
    // Slot ranges [r[i][0], r[i][1]): the sinks, then the filled part of the ring.
    void used_slots(int64_t n_past, int64_t r[2][2]) const {
        const int64_t blk = kern::kKvBlock, sink_slots = kern::kv_sink_slots(geo->n_sinks), ring = geo->n_slots - sink_slots;
        const int64_t sinks = n_past < geo->n_sinks ? n_past : geo->n_sinks;
        int64_t in_ring = n_past - geo->n_sinks;
        in_ring = in_ring < 0 ? 0 : in_ring > ring ? ring : in_ring;
        r[0][0] = 0;
        r[0][1] = (sinks + blk - 1) / blk * blk;
        r[1][0] = sink_slots;
        r[1][1] = sink_slots + (in_ring + blk - 1) / blk * blk;
    }
};

} // namespace sm
