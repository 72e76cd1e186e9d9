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
    m.take_n<int32_t>(4096);
    return m.used;
}

bool Sampler::init(const sm_sampler_desc &d, int n_vocab, Bump &arena) {
    n_vocab_ = n_vocab;
    bias_ = arena.take_n<sm_logit_bias>(kMaxLogitBias);
    cand_ = arena.take_n<Cand>(static_cast<size_t>(n_vocab));
    prob_ = arena.take_n<float>(static_cast<size_t>(n_vocab));
    window_ = arena.take_n<int32_t>(4096);
    return configure(d);
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

int32_t Sampler::pick_greedy(int n) {
    // Most likely first, asking the host's filter; ties go to the lower id.
    std::sort(cand_, cand_ + n, [](const Cand &a, const Cand &b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); });
    for (int i = 0; i < n; i++)
        if (!d_.filter || d_.filter(d_.filter_user, cand_[i].id)) return cand_[i].id;
    return -1;
}

int32_t Sampler::sample(const float *logits, const int32_t *recent, int n_recent, const TokenConstraint *c) {
    // Candidates: every token the constraint allows, with biased, penalised logits.
    // (Locals, not members, in the loops over the vocabulary: the stores into cand could
    // alias *this, which would reload every member on every token id.)
    Cand *const cand = cand_;
    const int n_vocab = n_vocab_;
    int n = 0;
    if (c && c->allows) {
        for (int32_t t = 0; t < n_vocab; t++)
            if (c->allows(c->ctx, t)) cand[n++] = {logits[t], t};
    } else {
        for (int32_t t = 0; t < n_vocab; t++) cand[t] = {logits[t], t};
        n = n_vocab;
    }
    if (n == 0) return -1;
    const bool all = n == n_vocab_; // cand_[t].id == t: biases and penalties index directly
    auto find = [&](int32_t id) -> Cand * {
        if (all) return id >= 0 && id < n_vocab_ ? &cand_[id] : nullptr;
        int lo = 0, hi = n - 1; // ids ascending
        while (lo <= hi) {
            int mid = (lo + hi) / 2;
            if (cand_[mid].id == id) return &cand_[mid];
            if (cand_[mid].id < id) lo = mid + 1;
            else hi = mid - 1;
        }
        return nullptr;
    };
    for (size_t i = 0; i < d_.n_logit_bias; i++)
        if (Cand *x = find(bias_[i].token)) x->logit += bias_[i].bias;

    const bool penalise = d_.repeat_penalty != 1.0f || d_.frequency_penalty != 0.0f || d_.presence_penalty != 0.0f;
    if (penalise && n_recent > 0 && d_.penalty_window > 0) {
        int w = n_recent < d_.penalty_window ? n_recent : d_.penalty_window;
        memcpy(window_, recent + (n_recent - w), sizeof(int32_t) * static_cast<size_t>(w));
        std::sort(window_, window_ + w);
        for (int i = 0; i < w;) {
            int j = i;
            while (j < w && window_[j] == window_[i]) j++;
            if (Cand *x = find(window_[i])) {
                const int count = j - i;
                if (d_.repeat_penalty != 1.0f)
                    x->logit = x->logit > 0 ? x->logit / d_.repeat_penalty : x->logit * d_.repeat_penalty;
                x->logit -= static_cast<float>(count) * d_.frequency_penalty + d_.presence_penalty;
            }
            i = j;
        }
    }

    if (d_.temperature <= 0.0f) {
        if (!d_.filter) { // plain argmax, first maximum wins
            int best = 0;
            for (int i = 1; i < n; i++)
                if (cand_[i].logit > cand_[best].logit) best = i;
            return cand_[best].id;
        }
        return pick_greedy(n);
    }

    // Truncation on the untempered distribution: top-k, then top-p and min-p over the
    // most likely tokens in order. Only the prefix that truncation keeps is ever sorted
    // (selection, then a small sort): sorting a 32k-50k vocabulary per token would cost
    // milliseconds, more than the decode step of a small model.
    auto desc = [](const Cand &a, const Cand &b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); };
    const bool nucleus = (d_.top_p > 0.0f && d_.top_p < 1.0f) || d_.min_p > 0.0f;
    int k = n;
    if (d_.top_k > 0 && d_.top_k < n) k = d_.top_k;
    float max = cand_[0].logit;
    double sum = 0; // normaliser of the kept set: the top k after top-k (below), else all n
    if (k == n && nucleus) {
        for (int i = 1; i < n; i++) max = cand_[i].logit > max ? cand_[i].logit : max;
        for (int i = 0; i < n; i++) sum += expf(cand_[i].logit - max);
    }
    // The sorted prefix: top-k's k, or for top-p / min-p a guess that grows until the
    // cut falls inside it. The comparator is a total order, so every prefix length gives
    // the same leading tokens as a full sort.
    int len = k < n ? k : (nucleus ? (n < 64 ? n : 64) : n);
    for (;;) {
        if (len < n && len <= 256) {
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
    }
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
    if (m == 0) { // the filter rejected every likely token: the most likely it accepts
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
