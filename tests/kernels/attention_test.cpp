// Attention: every SIMD table against the oracle and against a dense softmax computed
// naively in double from AttnArgs' definition; sinks + window with ring wrap, GQA, odd
// head sizes; and the bit-identity of a query alone, in a run, or in any head range.
#include "kernel_test_util.h"

using namespace kt;
using sm::kern::AttnArgs;
using sm::kern::kRefKernels;

namespace {

struct Setup {
    int n_heads, n_kv_heads, head_dim, n_slots, n_sinks, window;
    int64_t pos0;
    int n_q;
    std::vector<float> q, qs, k, v;
    Setup(int nh, int nkv, int hd, int slots, int sinks, int win, int64_t p0, int nq, uint32_t seed)
        : n_heads(nh), n_kv_heads(nkv), head_dim(hd), n_slots(slots), n_sinks(sinks), window(win), pos0(p0), n_q(nq) {
        q = randn(static_cast<size_t>(nq) * nh * hd + 3, seed);
        qs = randn(q.size(), seed + 1);
        k = randn(static_cast<size_t>(nkv) * slots * hd, seed + 2, 1.5f);
        v = randn(k.size(), seed + 3);
    }
    AttnArgs args(float *out, int r0 = 0, int nq = -1) const {
        AttnArgs a;
        a.q = q.data() + 1 + static_cast<size_t>(r0) * n_heads * head_dim; // odd address
        a.q_sink = qs.data() + 1 + static_cast<size_t>(r0) * n_heads * head_dim;
        a.ldq = n_heads * head_dim;
        a.n_q = nq < 0 ? n_q : nq;
        a.pos0 = pos0 + r0;
        a.k = k.data();
        a.v = v.data();
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
            const float *kr = k.data() + (static_cast<int64_t>(kvh) * n_slots + sm::kern::attn_slot(j, n_sinks, n_slots)) * head_dim;
            double d = 0;
            for (int i = 0; i < head_dim; i++) d += static_cast<double>(qq[i]) * kr[i];
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
            const float *vr = v.data() + (static_cast<int64_t>(kvh) * n_slots + sm::kern::attn_slot(keys[t], n_sinks, n_slots)) * head_dim;
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
                    if (bad++ < 5) FAIL_CHECK("r " << r << " h " << h << " d " << i << ": simd " << out[at] << " ref " << outr[at] << " exact " << o[i]);
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
        check_against_naive(*k, Setup(6, 6, 48, 300, 0, 290, 130, 9, 2));  // stories15M shapes, mid tile
        check_against_naive(*k, Setup(8, 8, 8, 64, 2, 60, 0, 33, 3));      // stories260K head size
    }
}

TEST_CASE("attention: sinks + sliding window over a wrapped ring", "[kernels]") {
    for (const Kernels *k : simd_tables()) {
        // n_slots = sinks + window: positions far past n_slots wrap the ring many times.
        check_against_naive(*k, Setup(4, 2, 32, 100, 4, 96, 1000, 17, 4));
        check_against_naive(*k, Setup(4, 4, 20, 77, 3, 74, 150, 40, 5)); // odd head_dim, run crossing the window edge
        check_against_naive(*k, Setup(2, 1, 64, 132, 0, 132, 500, 5, 6)); // no sinks
        check_against_naive(*k, Setup(8, 2, 64, 200, 64, 136, 4000, 3, 7)); // a full sink tile
        check_against_naive(*k, Setup(2, 2, 128, 40, 8, 32, 37, 8, 8));  // run straddling the first eviction
    }
}

TEST_CASE("attention: GQA groups share KV heads", "[kernels]") {
    for (const Kernels *k : simd_tables()) {
        check_against_naive(*k, Setup(8, 2, 64, 512, 4, 500, 60, 12, 9));
        check_against_naive(*k, Setup(9, 3, 24, 128, 2, 100, 300, 6, 10));
    }
}

TEST_CASE("attention: a query gives the same bits alone, in a run, or in any head range", "[kernels]") {
    std::vector<const Kernels *> tabs = simd_tables();
    tabs.push_back(&kRefKernels);
    for (const Kernels *k : tabs) {
        check_bit_identity(*k, Setup(8, 2, 64, 512, 4, 500, 0, 70, 11));
        check_bit_identity(*k, Setup(4, 2, 20, 77, 3, 74, 150, 40, 12));
        check_bit_identity(*k, Setup(6, 6, 48, 300, 4, 200, 190, 33, 13)); // crossing sinks + window
        check_bit_identity(*k, Setup(2, 2, 8, 40, 8, 32, 100, 9, 14));
    }
}
