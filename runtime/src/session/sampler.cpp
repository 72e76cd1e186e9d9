#include "session/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sm {

size_t Sampler::bytes_needed(int n_vocab) {
    Bump m = Bump::measuring();
    m.take_n<sm_logit_bias>(kMaxLogitBias);
    m.take_n<Cand>(static_cast<size_t>(n_vocab));
    m.take_n<float>(static_cast<size_t>(n_vocab));
    m.take_n<float>(static_cast<size_t>(n_vocab));
    m.take_n<int32_t>(4096);
    return m.used;
}

bool Sampler::init(const sm_sampler_desc &d, int n_vocab, Bump &arena) {
    n_vocab_ = n_vocab;
    bias_ = arena.take_n<sm_logit_bias>(kMaxLogitBias);
    cand_ = arena.take_n<Cand>(static_cast<size_t>(n_vocab));
    prob_ = arena.take_n<float>(static_cast<size_t>(n_vocab));
    adj_ = arena.take_n<float>(static_cast<size_t>(n_vocab));
    window_ = arena.take_n<int32_t>(4096);
    return configure(d);
}

bool Sampler::settings_ok(const sm_sampler_desc &d) {
    using std::isfinite; // comparisons with NaN are false, so NaN fails every range below
    return isfinite(d.temperature) && d.temperature >= 0 && d.top_p >= 0 && d.top_p <= 1 && d.min_p >= 0 && d.min_p <= 1 &&
           d.top_k >= 0 && isfinite(d.repeat_penalty) && d.repeat_penalty > 0 && isfinite(d.frequency_penalty) &&
           isfinite(d.presence_penalty) && d.penalty_window >= 0;
}

bool Sampler::configure(const sm_sampler_desc &d) {
    if (d.n_logit_bias > static_cast<size_t>(kMaxLogitBias)) return false;
    d_ = d;
    if (d.n_logit_bias) memcpy(bias_, d.logit_bias, sizeof(sm_logit_bias) * d.n_logit_bias);
    d_.logit_bias = bias_;
    if (d_.penalty_window > 4096) d_.penalty_window = 4096;
    rng_.seed(d.seed);
    return true;
}

void Sampler::fill_all() {
    Cand *const cand = cand_;
    const float *const adj = view_;
    for (int32_t t = 0, n = n_vocab_; t < n; t++) cand[t] = {adj[t], t};
}

namespace {

// Whether any of p[0..16) is >= t (false for NaN, like the scalar test it guards).
inline bool any_at_least16(const float *p, float t) {
#if defined(__GNUC__)
    typedef float F4 __attribute__((vector_size(16)));
    typedef int32_t I4 __attribute__((vector_size(16)));
    F4 v[4];
    memcpy(v, p, sizeof v);
    const F4 tv = {t, t, t, t};
    const I4 m = (v[0] >= tv) | (v[1] >= tv) | (v[2] >= tv) | (v[3] >= tv);
    return (m[0] | m[1] | m[2] | m[3]) != 0;
#else
    for (int j = 0; j < 16; j++)
        if (p[j] >= t) return true;
    return false;
#endif
}

} // namespace

void Sampler::select_top(int len) {
    // A heap of the best `len` of view_ so far, worst on top. Blocks of 16 tokens are first
    // tested against that worst logit four lanes at a time: in a 32k vocabulary almost
    // every block is below it and costs no per-token work (about 10x fewer instructions
    // than copying every token into a candidate and comparing it).
    auto desc = [](const Cand &a, const Cand &b) { return before(a, b); }; // inlined in the heap loops
    Cand *const cand = cand_;
    const float *const adj = view_;
    const int n = n_vocab_;
    for (int i = 0; i < len; i++) cand[i] = {adj[i], i};
    std::make_heap(cand, cand + len, desc);
    auto consider = [&](int i) {
        const Cand x{adj[i], i};
        if (x.logit >= cand[0].logit && desc(x, cand[0])) {
            std::pop_heap(cand, cand + len, desc);
            cand[len - 1] = x;
            std::push_heap(cand, cand + len, desc);
        }
    };
    int i = len;
    for (; i < n && (i & 15); i++) consider(i);
    for (; i + 16 <= n; i += 16)
        if (any_at_least16(adj + i, cand[0].logit))
            for (int j = i; j < i + 16; j++) consider(j);
    for (; i < n; i++) consider(i);
}

int32_t Sampler::pick_greedy(int n) {
    // Most likely first, asking the host's filter; ties go to the lower id.
    std::sort(cand_, cand_ + n, [](const Cand &a, const Cand &b) { return before(a, b); });
    for (int i = 0; i < n; i++)
        if (!d_.filter || d_.filter(d_.filter_user, cand_[i].id)) return cand_[i].id;
    return -1;
}

int32_t Sampler::sample(const float *logits, const int32_t *recent, int n_recent, const TokenConstraint *c) {
    const bool penalise = d_.repeat_penalty != 1.0f || d_.frequency_penalty != 0.0f || d_.presence_penalty != 0.0f;
    const bool penalties = penalise && n_recent > 0 && d_.penalty_window > 0;
    const int n = gather(logits, c, d_.n_logit_bias > 0 || penalties);
    if (n == 0) return -1;
    adjust(n, penalties ? recent : nullptr, n_recent);
    if (d_.temperature <= 0.0f) return pick_most_likely(n);
    float max = 0;
    const int k = truncate(n, &max);
    return draw(n, k, max);
}

int Sampler::gather(const float *logits, const TokenConstraint *c, bool adjusted) {
    // Without a constraint the logits stay a plain array by token id (view_: the caller's
    // row, or a copy in adj_ when biases or penalties change it) and candidates are made
    // only for the tokens truncation can keep; with one, the allowed tokens become the
    // candidates (ids ascending). (Locals, not members, in the loops over the vocabulary:
    // stores into cand could alias *this and reload every member per token.)
    Cand *const cand = cand_;
    const int n_vocab = n_vocab_;
    all_ = !(c && c->allows);
    filled_ = !all_; // cand_ holds every candidate
    if (all_) {
        if (adjusted) memcpy(adj_, logits, sizeof(float) * static_cast<size_t>(n_vocab));
        view_ = adjusted ? adj_ : logits;
        return n_vocab;
    }
    int n = 0;
    for (int32_t t = 0; t < n_vocab; t++)
        if (c->allows(c->ctx, t)) cand[n++] = {logits[t], t};
    return n;
}

float *Sampler::find(int n, int32_t id) {
    if (all_) return id >= 0 && id < n_vocab_ ? &adj_[id] : nullptr;
    int lo = 0, hi = n - 1; // candidates are in id order
    while (lo <= hi) {
        const int mid = (lo + hi) / 2;
        if (cand_[mid].id == id) return &cand_[mid].logit;
        if (cand_[mid].id < id) lo = mid + 1;
        else hi = mid - 1;
    }
    return nullptr;
}

void Sampler::adjust(int n, const int32_t *recent, int n_recent) {
    for (size_t i = 0; i < d_.n_logit_bias; i++)
        if (float *x = find(n, bias_[i].token)) *x += bias_[i].bias;
    if (!recent) return;
    // Penalties per distinct token of the window: sorted, so equal ids are neighbours.
    const int w = n_recent < d_.penalty_window ? n_recent : d_.penalty_window;
    memcpy(window_, recent + (n_recent - w), sizeof(int32_t) * static_cast<size_t>(w));
    std::sort(window_, window_ + w);
    for (int i = 0; i < w;) {
        int j = i;
        while (j < w && window_[j] == window_[i]) j++;
        if (float *x = find(n, window_[i])) {
            const int count = j - i;
            if (d_.repeat_penalty != 1.0f) *x = *x > 0 ? *x / d_.repeat_penalty : *x * d_.repeat_penalty;
            *x -= static_cast<float>(count) * d_.frequency_penalty + d_.presence_penalty;
        }
        i = j;
    }
}

int32_t Sampler::pick_most_likely(int n) {
    if (d_.filter) {
        if (!filled_) fill_all();
        return pick_greedy(n);
    }
    // Plain argmax, the first maximum wins.
    if (all_) {
        const float *v = view_;
        int best = 0;
        for (int i = 1; i < n; i++)
            if (v[i] > v[best]) best = i;
        return best;
    }
    const Cand *const cand = cand_;
    int best = 0;
    for (int i = 1; i < n; i++)
        if (cand[i].logit > cand[best].logit) best = i;
    return cand[best].id;
}

int Sampler::truncate(int n, float *max_out) {
    // Truncation on the untempered distribution: top-k, then top-p and min-p over the
    // most likely tokens in order. Only the prefix that truncation keeps is ever sorted
    // (selection, then a small sort): sorting a 32k-50k vocabulary per token would cost
    // milliseconds, more than the decode step of a small model.
    Cand *const cand = cand_;
    auto desc = [](const Cand &a, const Cand &b) { return before(a, b); }; // inlined in the heap loops
    const bool nucleus = (d_.top_p > 0.0f && d_.top_p < 1.0f) || d_.min_p > 0.0f;
    int k = n;
    if (d_.top_k > 0 && d_.top_k < n) k = d_.top_k;
    // The sorted prefix: top-k's k, or for top-p / min-p a guess that grows until the
    // cut falls inside it. The comparator is a total order, so every prefix length gives
    // the same leading tokens as a full sort.
    int len = k < n ? k : (nucleus ? (n < 64 ? n : 64) : n);
    bool selected = false;
    if (!filled_ && len < n && len <= kMaxHeapSelect) { // the prefix straight from view_
        select_top(len);
        selected = true;
    } else if (!filled_) {
        fill_all();
        filled_ = true;
    }
    float max = 0;
    double sum = 0; // normaliser of the kept set: the top k after top-k (below), else all n
    if (k == n) {   // over every candidate in id order (view_ is cand_ before any selection)
        const float *v = view_;
        const bool all = all_;
        auto logit = [&](int i) { return all ? v[i] : cand[i].logit; };
        max = logit(0);
        for (int i = 1; i < n; i++) max = logit(i) > max ? logit(i) : max;
        if (nucleus)
            for (int i = 0; i < n; i++) sum += expf(logit(i) - max);
    }
    for (;;) {
        if (selected) {
            selected = false;
        } else if (len < n && len <= kMaxHeapSelect) {
            // A heap of the best `len` so far, worst on top: one pass in which nearly
            // every token costs a single comparison (about 5x faster than nth_element).
            std::make_heap(cand, cand + len, desc);
            for (int i = len; i < n; i++)
                if (cand[i].logit >= cand[0].logit && desc(cand[i], cand[0])) {
                    std::pop_heap(cand, cand + len, desc);
                    std::swap(cand[len - 1], cand[i]);
                    std::push_heap(cand, cand + len, desc);
                }
        } else if (len < n) {
            std::nth_element(cand_, cand_ + (len - 1), cand_ + n, desc);
        }
        if (len < n || nucleus || k < n) std::sort(cand_, cand_ + len, desc);
        if (k < n) { // top-k: the kept set is the prefix
            k = len;
            max = cand_[0].logit;
            sum = 0;
            for (int i = 0; i < k; i++) sum += expf(cand_[i].logit - max);
        }
        int cut = len;
        bool inside = !nucleus;
        if (nucleus) {
            double cum = 0;
            const float floor = d_.min_p; // relative to the most likely token (exp(0) = 1)
            for (int i = 0; i < len; i++) {
                const float pr = expf(cand_[i].logit - max);
                if (d_.min_p > 0.0f && i > 0 && pr < floor) { // min-p: the rest are rarer still
                    cut = i;
                    inside = true;
                    break;
                }
                cum += pr / sum;
                if (d_.top_p > 0.0f && d_.top_p < 1.0f && cum >= d_.top_p) {
                    cut = i + 1;
                    inside = true;
                    break;
                }
            }
        }
        if (inside || len >= k) {
            k = cut < k ? cut : k;
            break;
        }
        len = len * 8 < k ? len * 8 : k;
        if (!filled_) { // top-p / min-p reach past the prefix selected from view_
            fill_all();
            filled_ = true;
        }
    }
    *max_out = max;
    return k;
}

int32_t Sampler::draw(int n, int k, float max) {
    // Temperature, then the host's filter over what is left (most likely first).
    double total = 0;
    int m = 0;
    for (int i = 0; i < k; i++) {
        if (d_.filter && !d_.filter(d_.filter_user, cand_[i].id)) continue;
        cand_[m] = cand_[i];
        prob_[m] = expf((cand_[i].logit - max) / d_.temperature);
        total += prob_[m];
        m++;
    }
    if (m == 0) {             // the filter rejected every likely token: the most likely it accepts
        if (all_) fill_all(); // cand_ may hold only the selected prefix
        const int32_t t = pick_greedy(n);
        rng_.next(); // keep one draw per token
        return t;
    }
    const double r = static_cast<double>(rng_.uniform()) * total;
    double acc = 0;
    for (int i = 0; i < m; i++) {
        acc += prob_[i];
        if (r < acc) return cand_[i].id;
    }
    return cand_[m - 1].id;
}

} // namespace sm
