// Attention: every SIMD table against the oracle and against a dense softmax computed
// naively in double from AttnArgs' definition; sinks + window with ring wrap, GQA, odd
// head sizes; and the bit-identity of a query alone, in a run, or in any head range.
#include "kernel_test_util.h"
#include "quant/fp16.h"

using namespace kt;
using sm::kern::AttnArgs;
using sm::kern::kRefKernels;

namespace {

// Caches in the layout of kernels.h: keys blocked d-major (k_index), values in rows,
// slots from attn_slot. Slots no query of the run can see (sink padding, ring slots of
// positions outside every window) hold NaN, so reading or scoring them into the result
// shows.
struct Setup {
    int n_heads, n_kv_heads, head_dim, n_slots, n_sinks, window;
    int64_t pos0;
    int n_q;
    std::vector<float> q, qs, k, v;
    std::vector<uint16_t> k16, v16; // the cache as F16, when f16()
    // ring: window slots after the sink blocks, a multiple of kAttnTile.
    Setup(int nh, int nkv, int hd, int ring, int sinks, int win, int64_t p0, int nq, uint32_t seed)
        : n_heads(nh), n_kv_heads(nkv), head_dim(hd), n_slots(sm::kern::kv_sink_slots(sinks) + ring), n_sinks(sinks), window(win),
          pos0(p0), n_q(nq) {
        REQUIRE(ring % sm::kern::kAttnTile == 0);
        q = randn(static_cast<size_t>(nq) * nh * hd + 3, seed);
        qs = randn(q.size(), seed + 1);
        const size_t n = static_cast<size_t>(nkv) * n_slots * hd;
        k.assign(n, NAN);
        v.assign(n, NAN);
        const std::vector<float> kr = randn(n, seed + 2, 1.5f), vr = randn(n, seed + 3);
        // Every key some query of the run sees, at its slot; row-major source values.
        std::vector<bool> seen(static_cast<size_t>(n_slots), false);
        for (int r = 0; r < nq; r++) {
            const int64_t p = p0 + r;
            for (int64_t j = 0; j <= p; j++)
                if (visible(p, j)) seen[static_cast<size_t>(slot(j))] = true;
        }
        for (int h = 0; h < nkv; h++)
            for (int s = 0; s < n_slots; s++) {
                if (!seen[static_cast<size_t>(s)]) continue;
                for (int d = 0; d < hd; d++) {
                    const size_t src = (static_cast<size_t>(h) * n_slots + s) * hd + d;
                    k[static_cast<size_t>(sm::kern::k_index(h, s, d, hd, n_slots))] = kr[src];
                    v[src] = vr[src];
                }
            }
    }
    // Makes the cache F16: k16 / v16 hold it, k / v the same values widened back (for the
    // oracle), and args() hands the kernels only the F16 arrays.
    Setup &f16() {
        k16.resize(k.size());
        v16.resize(v.size());
        for (size_t i = 0; i < k.size(); i++) k[i] = sm::fp16_to_f32(k16[i] = sm::f32_to_fp16(k[i]));
        for (size_t i = 0; i < v.size(); i++) v[i] = sm::fp16_to_f32(v16[i] = sm::f32_to_fp16(v[i]));
        return *this;
    }
    int64_t slot(int64_t j) const { return sm::kern::attn_slot(j, n_sinks, n_slots); }
    bool visible(int64_t p, int64_t j) const {
        if (j > p) return false;
        return p < n_sinks + window || j < n_sinks || j > p - window;
    }
    float key(int kvh, int64_t j, int d) const {
        return k[static_cast<size_t>(sm::kern::k_index(kvh, slot(j), d, head_dim, n_slots))];
    }
    const float *val(int kvh, int64_t j) const { return v.data() + (static_cast<int64_t>(kvh) * n_slots + slot(j)) * head_dim; }
    AttnArgs args(float *out, int r0 = 0, int nq = -1) const {
        AttnArgs a;
        a.q = q.data() + 1 + static_cast<size_t>(r0) * n_heads * head_dim; // odd address
        a.q_sink = qs.data() + 1 + static_cast<size_t>(r0) * n_heads * head_dim;
        a.ldq = n_heads * head_dim;
        a.n_q = nq < 0 ? n_q : nq;
        a.pos0 = pos0 + r0;
        if (k16.empty()) {
            a.k = k.data();
            a.v = v.data();
        } else {
            a.k16 = k16.data();
            a.v16 = v16.data();
        }
        a.n_slots = n_slots;
        a.n_sinks = n_sinks;
        a.window = window;
        a.n_heads = n_heads;
        a.n_kv_heads = n_kv_heads;
        a.head_dim = head_dim;
        a.scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
        a.out = out;
        a.ldo = n_heads * head_dim;
        return a;
    }
    // Dense softmax in double straight from the definition in kernels.h.
    void naive(int r, int h, double *o) const {
        const int64_t p = pos0 + r;
        const int kvh = h / (n_heads / n_kv_heads);
        const float *qv = q.data() + 1 + (static_cast<size_t>(r) * n_heads + h) * head_dim;
        const float *qsv = qs.data() + 1 + (static_cast<size_t>(r) * n_heads + h) * head_dim;
        std::vector<double> s;
        std::vector<int64_t> keys;
        auto score = [&](const float *qq, int64_t j) {
            double d = 0;
            for (int i = 0; i < head_dim; i++) d += static_cast<double>(qq[i]) * key(kvh, j, i);
            return d / std::sqrt(static_cast<double>(head_dim));
        };
        if (p < n_sinks + window) {
            for (int64_t j = 0; j <= p; j++) s.push_back(score(qv, j)), keys.push_back(j);
        } else {
            for (int64_t j = 0; j < n_sinks; j++) s.push_back(score(qsv, j)), keys.push_back(j);
            for (int64_t j = p - window + 1; j <= p; j++) s.push_back(score(qv, j)), keys.push_back(j);
        }
        double mx = -1e300, sum = 0;
        for (double x : s) mx = std::max(mx, x);
        for (int i = 0; i < head_dim; i++) o[i] = 0;
        for (size_t t = 0; t < s.size(); t++) {
            const double e = std::exp(s[t] - mx);
            sum += e;
            const float *vr = val(kvh, keys[t]);
            for (int i = 0; i < head_dim; i++) o[i] += e * vr[i];
        }
        for (int i = 0; i < head_dim; i++) o[i] /= sum;
    }
};

// Outputs are convex combinations of v rows (|v| < ~6): float softmax with a few-ulp
// exp and sums over at most a few hundred keys stays within 1e-5 absolute of the exact
// value; a wrong key, scale, sink query or tile order is off by far more than that.
constexpr double kAttnTol = 2e-5;

void check_against_naive(const Kernels &k, const Setup &s) {
    INFO(k.name << " heads " << s.n_heads << "/" << s.n_kv_heads << " hd " << s.head_dim << " slots " << s.n_slots << " sinks "
                << s.n_sinks << " window " << s.window << " pos0 " << s.pos0 << " n_q " << s.n_q);
    const size_t n = static_cast<size_t>(s.n_q) * s.n_heads * s.head_dim;
    std::vector<float> out(n, NAN), outr(n, NAN);
    k.attention(s.args(out.data()), 0, s.n_heads);
    kRefKernels.attention(s.args(outr.data()), 0, s.n_heads);
    std::vector<double> o(s.head_dim);
    int bad = 0;
    for (int r = 0; r < s.n_q; r++)
        for (int h = 0; h < s.n_heads; h++) {
            s.naive(r, h, o.data());
            for (int i = 0; i < s.head_dim; i++) {
                const size_t at = (static_cast<size_t>(r) * s.n_heads + h) * s.head_dim + i;
                if (!(std::fabs(out[at] - o[i]) <= kAttnTol) || !(std::fabs(outr[at] - o[i]) <= kAttnTol)) {
                    if (bad++ < 5)
                        FAIL_CHECK("r " << r << " h " << h << " d " << i << ": simd " << out[at] << " ref " << outr[at]
                                        << " exact " << o[i]);
                }
            }
        }
    CHECK(bad == 0);
}

// A run of n_q queries == each query alone == any split of the heads, bit for bit.
void check_bit_identity(const Kernels &k, const Setup &s) {
    INFO(k.name << " hd " << s.head_dim << " pos0 " << s.pos0 << " n_q " << s.n_q);
    const int row = s.n_heads * s.head_dim;
    const size_t n = static_cast<size_t>(s.n_q) * row;
    std::vector<float> run(n, NAN), alone(n, NAN), split(n, NAN);
    k.attention(s.args(run.data()), 0, s.n_heads);
    for (int r = 0; r < s.n_q; r++) k.attention(s.args(alone.data() + static_cast<size_t>(r) * row, r, 1), 0, s.n_heads);
    CHECK(bits_equal(run.data(), alone.data(), n));
    // Heads in uneven ranges, and the run cut in two.
    const int cut = s.n_q / 2 + 1 < s.n_q ? s.n_q / 2 + 1 : s.n_q;
    for (int h0 = 0; h0 < s.n_heads;) {
        const int h1 = std::min(s.n_heads, h0 + 1 + h0 % 3);
        k.attention(s.args(split.data(), 0, cut), h0, h1);
        if (cut < s.n_q) k.attention(s.args(split.data() + static_cast<size_t>(cut) * row, cut, s.n_q - cut), h0, h1);
        h0 = h1;
    }
    CHECK(bits_equal(run.data(), split.data(), n));
}

} // namespace

TEST_CASE("attention: causal, before anything is evicted", "[kernels]") {
    for (const Kernels *k : simd_tables()) {
        check_against_naive(*k, Setup(4, 4, 16, 256, 4, 200, 0, 70, 1));   // prefill from 0, tiles 0 and 1
        check_against_naive(*k, Setup(6, 6, 48, 320, 0, 290, 130, 9, 2));  // stories15M shapes, mid tile
        check_against_naive(*k, Setup(8, 8, 8, 64, 2, 60, 0, 33, 3));      // stories260K head size
        check_against_naive(*k, Setup(6, 6, 48, 256, 0, 250, 200, 1, 15)); // decode, 24M shapes
    }
}

TEST_CASE("attention: sinks + sliding window over a wrapped ring", "[kernels]") {
    for (const Kernels *k : simd_tables()) {
        // Rings just big enough for the run: positions far past n_slots wrap them many times.
        check_against_naive(*k, Setup(4, 2, 32, 128, 4, 96, 1000, 17, 4));
        check_against_naive(*k, Setup(4, 4, 20, 128, 3, 74, 150, 40, 5));   // odd head_dim, run crossing the window edge
        check_against_naive(*k, Setup(2, 1, 64, 192, 0, 132, 500, 5, 6));   // no sinks
        check_against_naive(*k, Setup(8, 2, 64, 192, 64, 136, 4000, 3, 7)); // a full sink tile
        check_against_naive(*k, Setup(2, 2, 128, 64, 8, 32, 37, 8, 8));     // run straddling the first eviction
        check_against_naive(*k, Setup(3, 3, 40, 64, 5, 64, 777, 1, 16));    // ring == window, one query
        check_against_naive(*k, Setup(2, 2, 12, 128, 1, 127, 5000, 2, 17));
    }
}

TEST_CASE("attention: GQA groups share KV heads", "[kernels]") {
    for (const Kernels *k : simd_tables()) {
        check_against_naive(*k, Setup(8, 2, 64, 512, 4, 500, 60, 12, 9));
        check_against_naive(*k, Setup(9, 3, 24, 128, 2, 100, 300, 6, 10));
        check_against_naive(*k, Setup(8, 1, 64, 256, 4, 200, 900, 1, 18)); // decode, 8 heads on one KV head
    }
}

TEST_CASE("attention: a query gives the same bits alone, in a run, or in any head range", "[kernels]") {
    std::vector<const Kernels *> tabs = simd_tables();
    tabs.push_back(&kRefKernels);
    for (const Kernels *k : tabs) {
        check_bit_identity(*k, Setup(8, 2, 64, 512, 4, 500, 0, 70, 11));
        check_bit_identity(*k, Setup(4, 2, 20, 128, 3, 74, 150, 40, 12));
        check_bit_identity(*k, Setup(6, 6, 48, 256, 4, 200, 190, 33, 13)); // crossing sinks + window
        check_bit_identity(*k, Setup(2, 2, 8, 64, 8, 32, 100, 9, 14));
        check_bit_identity(*k, Setup(9, 3, 36, 192, 5, 120, 400, 20, 19)); // GQA, wrapped, past the window
    }
}

TEST_CASE("attention: F16 keys and values", "[kernels]") {
    std::vector<const Kernels *> tabs = simd_tables();
    tabs.push_back(&kRefKernels);
    for (const Kernels *k : tabs) {
        check_against_naive(*k, Setup(4, 4, 16, 256, 4, 200, 0, 70, 21).f16());
        check_against_naive(*k, Setup(4, 4, 20, 128, 3, 74, 150, 40, 22).f16());   // odd head_dim, wrapped
        check_against_naive(*k, Setup(8, 2, 64, 192, 64, 136, 4000, 3, 23).f16()); // GQA, a full sink tile
        check_against_naive(*k, Setup(6, 6, 48, 256, 0, 250, 200, 1, 24).f16());   // decode, 24M shapes
        check_bit_identity(*k, Setup(9, 3, 36, 192, 5, 120, 400, 20, 25).f16());
        check_bit_identity(*k, Setup(2, 2, 8, 64, 8, 32, 100, 9, 26).f16());
    }
}

// The layout's tiles: the sinks in their own blocks, every window tile
// [n_sinks + kAttnTile t, + kAttnTile) in kAttnTile contiguous ring slots starting on a
// key block, whatever the ring wraps; then the kernels on runs crossing those tile
// edges (and the ring's wrap), against the dense oracle and for bit identity.
TEST_CASE("attention: tiles aligned to n_sinks + multiples of kAttnTile", "[kernels]") {
    using sm::kern::attn_slot;
    using sm::kern::k_index;
    using sm::kern::kAttnTile;
    using sm::kern::kKvBlock;
    using sm::kern::kv_sink_slots;
    for (int ns : {0, 3, 4, 16, 20}) {
        INFO("n_sinks " << ns);
        const int sink_slots = kv_sink_slots(ns);
        CHECK(sink_slots % kKvBlock == 0);
        CHECK(sink_slots >= ns);
        CHECK(sink_slots < ns + kKvBlock);
        for (int ring : {64, 128, 192}) {
            const int n_slots = sink_slots + ring;
            for (int64_t j = 0; j < ns; j++) CHECK(attn_slot(j, ns, n_slots) == j);
            bool ok = true;
            for (int64_t t = 0; t < 40; t++) {
                const int64_t base = ns + t * kAttnTile, s0 = attn_slot(base, ns, n_slots);
                ok &= s0 % kKvBlock == 0 && s0 >= sink_slots && s0 + kAttnTile <= n_slots;
                for (int i = 0; i < kAttnTile; i++) ok &= attn_slot(base + i, ns, n_slots) == s0 + i;
            }
            CHECK(ok);
            // Within a block the keys of one d are contiguous; d steps by a block.
            CHECK(k_index(1, sink_slots + 5, 3, 24, n_slots) - k_index(1, sink_slots + 4, 3, 24, n_slots) == 1);
            CHECK(k_index(1, sink_slots + 5, 4, 24, n_slots) - k_index(1, sink_slots + 5, 3, 24, n_slots) == kKvBlock);
            CHECK(k_index(1, 0, 0, 24, n_slots) == static_cast<int64_t>(n_slots) * 24);
        }
    }
    std::vector<const Kernels *> tabs = simd_tables();
    tabs.push_back(&kRefKernels);
    uint32_t seed = 100;
    for (int ns : {0, 3, 4, 16, 20})
        for (const Kernels *k : tabs) {
            // Prefill from 0 across the first two tile edges (ns + 64, ns + 128).
            Setup a(4, 2, 24, 192, ns, 100, 0, 140, seed++);
            check_bit_identity(*k, a);
            if (k != &kRefKernels) check_against_naive(*k, a);
            // A short run just across the edge ns + 64, and a long one far past the
            // window, across tile edges and the ring's wrap.
            for (int64_t p0 :
                 {static_cast<int64_t>(ns + 64 - 3), static_cast<int64_t>(ns + 1000), static_cast<int64_t>(ns + 1150)}) {
                Setup b(4, 2, 24, 192, ns, 100, p0, p0 > 200 ? 70 : 8, seed++);
                check_bit_identity(*k, b);
                if (k != &kRefKernels) check_against_naive(*k, b);
            }
        }
}
