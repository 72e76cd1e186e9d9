// The sampling chain against a plain reference that sorts the whole vocabulary: for random
// logits (with ties), settings, biases, penalties, filters and constraints, the sampler
// must draw exactly the token the reference draws from the same random stream.
#include <catch2/catch.hpp>

#include "session/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace {

struct Tok {
    float logit;
    int32_t id;
};

bool before(const Tok &a, const Tok &b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); }

// The chain as sampler.h describes it, written for clarity: every candidate sorted.
int32_t reference(const std::vector<float> &logits, const sm_sampler_desc &d, const std::vector<int32_t> &recent,
                  bool (*allows)(const void *, int32_t), sm::Rng &rng) {
    std::vector<Tok> c;
    for (int32_t t = 0; t < static_cast<int32_t>(logits.size()); t++)
        if (!allows || allows(nullptr, t)) c.push_back({logits[t], t});
    if (c.empty()) return -1;
    auto find = [&](int32_t id) -> Tok * {
        for (auto &x : c)
            if (x.id == id) return &x;
        return nullptr;
    };
    for (size_t i = 0; i < d.n_logit_bias; i++)
        if (Tok *x = find(d.logit_bias[i].token)) x->logit += d.logit_bias[i].bias;
    if (d.repeat_penalty != 1.0f || d.frequency_penalty != 0.0f || d.presence_penalty != 0.0f) {
        const size_t w = std::min(recent.size(), static_cast<size_t>(d.penalty_window));
        std::vector<int32_t> win(recent.end() - static_cast<long>(w), recent.end());
        std::sort(win.begin(), win.end());
        for (size_t i = 0; i < win.size();) {
            size_t j = i;
            while (j < win.size() && win[j] == win[i]) j++;
            if (Tok *x = find(win[i])) {
                if (d.repeat_penalty != 1.0f) x->logit = x->logit > 0 ? x->logit / d.repeat_penalty : x->logit * d.repeat_penalty;
                x->logit -= static_cast<float>(j - i) * d.frequency_penalty + d.presence_penalty;
            }
            i = j;
        }
    }
    const int n = static_cast<int>(c.size());
    std::vector<Tok> s = c;
    std::sort(s.begin(), s.end(), before);
    auto greedy_filtered = [&]() -> int32_t {
        for (const Tok &x : s)
            if (!d.filter || d.filter(d.filter_user, x.id)) return x.id;
        return -1;
    };
    if (d.temperature <= 0.0f) return greedy_filtered();

    int k = d.top_k > 0 && d.top_k < n ? d.top_k : n;
    float max = s[0].logit;
    double sum = 0;
    if (k < n) {
        for (int i = 0; i < k; i++) sum += expf(s[i].logit - max);
    } else {
        for (const Tok &x : c) sum += expf(x.logit - max); // (id order, as the sampler sums)
    }
    const bool top_p = d.top_p > 0.0f && d.top_p < 1.0f;
    if (top_p || d.min_p > 0.0f) {
        double cum = 0;
        for (int i = 0; i < k; i++) {
            const float pr = expf(s[i].logit - max);
            if (d.min_p > 0.0f && i > 0 && pr < d.min_p) {
                k = i;
                break;
            }
            cum += pr / sum;
            if (top_p && cum >= d.top_p) {
                k = i + 1;
                break;
            }
        }
    }
    // Without any truncation the draw runs over the candidates in id order (nothing to sort).
    const std::vector<Tok> &order = d.top_k > 0 && d.top_k < n || top_p || d.min_p > 0.0f ? s : c;
    std::vector<Tok> kept;
    std::vector<float> p;
    double total = 0;
    for (int i = 0; i < k; i++) {
        if (d.filter && !d.filter(d.filter_user, order[i].id)) continue;
        kept.push_back(order[i]);
        p.push_back(expf((order[i].logit - max) / d.temperature));
        total += p.back();
    }
    if (kept.empty()) {
        rng.next();
        return greedy_filtered();
    }
    const double r = static_cast<double>(rng.uniform()) * total;
    double acc = 0;
    for (size_t i = 0; i < kept.size(); i++) {
        acc += p[i];
        if (r < acc) return kept[i].id;
    }
    return kept.back().id;
}

int reject_thirds(void *, int32_t t) { return t % 3 != 0; }
int reject_all(void *, int32_t) { return 0; }
bool allow_even(const void *, int32_t t) { return t % 2 == 0; }
bool allow_none(const void *, int32_t) { return false; }

} // namespace

TEST_CASE("sampler: every setting draws exactly the token of a full-sort reference", "[session][sampler]") {
    std::mt19937 g(1234);
    const int vocabs[] = {1, 2, 3, 17, 63, 100, 1000, 32000, 49152};
    const float temps[] = {0.0f, 0.5f, 1.0f, 1.7f};
    const int top_ks[] = {0, 1, 5, 40, 255, 300, 100000};
    const float top_ps[] = {1.0f, 0.95f, 0.5f, 0.1f};
    const float min_ps[] = {0.0f, 0.05f, 0.3f};
    int draws = 0, truncated_by_heap = 0;
    for (int trial = 0; trial < 600; trial++) {
        const int n = vocabs[g() % 9];
        std::normal_distribution<float> nd(0.0f, 1.0f + static_cast<float>(g() % 4));
        std::vector<float> logits(n);
        const bool ties = g() % 3 == 0; // coarse values: many equal logits
        for (float &x : logits) x = ties ? std::round(nd(g) * 2.0f) * 0.5f : nd(g);

        sm_sampler_desc d{};
        d.temperature = temps[g() % 4];
        d.top_k = top_ks[g() % 7];
        d.top_p = top_ps[g() % 4];
        d.min_p = min_ps[g() % 3];
        d.repeat_penalty = g() % 2 ? 1.0f : 1.3f;
        d.frequency_penalty = g() % 2 ? 0.0f : 0.4f;
        d.presence_penalty = g() % 2 ? 0.0f : 0.7f;
        d.penalty_window = 1 + static_cast<int32_t>(g() % 80);
        std::vector<sm_logit_bias> bias;
        for (int i = static_cast<int>(g() % 6); i > 0; i--) // some ids out of range
            bias.push_back({static_cast<int32_t>(g() % (n + 4)) - 2, (static_cast<float>(g() % 200) - 100.0f) * 0.05f});
        d.logit_bias = bias.data();
        d.n_logit_bias = bias.size();
        const int f = static_cast<int>(g() % 8);
        d.filter = f == 0 ? reject_thirds : f == 1 ? reject_all : nullptr;
        d.seed = g();
        const int cs = static_cast<int>(g() % 10);
        bool (*allows)(const void *, int32_t) = cs == 0 ? allow_even : cs == 1 ? allow_none : nullptr;
        sm::TokenConstraint con{allows, nullptr};

        std::vector<uint8_t> mem(sm::Sampler::bytes_needed(n) + 4096);
        sm::Bump arena = sm::Bump::over(mem.data(), mem.size());
        sm::Sampler smp;
        REQUIRE(smp.init(d, n, arena));
        REQUIRE_FALSE(arena.overflowed());
        sm::Rng ref;
        ref.seed(d.seed);

        std::vector<int32_t> recent;
        for (int step = 0; step < 4; step++) {
            const int32_t want = reference(logits, d, recent, allows, ref);
            const int32_t got = smp.sample(logits.data(), recent.data(), static_cast<int>(recent.size()),
                                           allows ? &con : nullptr);
            INFO("trial " << trial << " step " << step << " n " << n << " T " << d.temperature << " top_k " << d.top_k
                          << " top_p " << d.top_p << " min_p " << d.min_p << " filter " << f << " constraint " << cs);
            REQUIRE(got == want);
            draws++;
            truncated_by_heap += !allows && d.temperature > 0 && d.top_k > 0 && d.top_k <= 256 && d.top_k < n;
            recent.push_back(got >= 0 ? got : 0);
            // The next step's logits move a little, as a model's would.
            for (int i = 0; i < 3 && n > 0; i++) logits[g() % n] += 1.5f;
        }
        REQUIRE(smp.rng().s[0] == ref.s[0]); // the same number of draws on both sides
    }
    CHECK(draws == 2400);
    CHECK(truncated_by_heap > 200); // the top-k fast path was exercised
}
