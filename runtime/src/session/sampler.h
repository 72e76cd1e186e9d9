// The sampling chain, applied to one logits row:
//   logit bias -> repetition / frequency / presence penalties over a window of recent
//   tokens -> allowed-token constraint (choice strings) -> greedy, or
//   top-k -> top-p -> min-p (on the untempered distribution, llama.cpp's order) ->
//   temperature -> the host's filter callback (most likely first) -> draw.
// With no truncation at all (top-k, top-p and min-p off) nothing is sorted: the draw runs
// over the tokens in id order.
// One uniform draw per sampled token, so a seed gives the same tokens everywhere.
#pragma once
#include "core/bump.h"
#include "session/rng.h"
#include "smallmind/smallmind.h"

#include <cstdint>

namespace sm {

// Says whether a token may come next; the session implements it for choice strings.
struct TokenConstraint {
    bool (*allows)(const void *ctx, int32_t token) = nullptr;
    const void *ctx = nullptr;
};

class Sampler {
public:
    static constexpr int kMaxLogitBias = 256;
    static size_t bytes_needed(int n_vocab);
    // Copies the desc (logit biases included). false if it has more biases than planned.
    bool init(const sm_sampler_desc &d, int n_vocab, Bump &arena);
    bool configure(const sm_sampler_desc &d); // same storage, new settings (and seed)
    // The documented ranges (NaN is outside every one): temperature >= 0, 0 <= top_p, min_p
    // <= 1, top_k >= 0, repeat_penalty > 0, finite penalties, penalty_window >= 0.
    static bool settings_ok(const sm_sampler_desc &d);
    void reseed(uint64_t seed) { rng_.seed(seed); }

    // recent: the last n_recent tokens, oldest first (the penalty window).
    // Returns -1 only if the constraint allows no token at all.
    int32_t sample(const float *logits, const int32_t *recent, int n_recent, const TokenConstraint *c);

    Rng &rng() { return rng_; }
    const Rng &rng() const { return rng_; }
    const sm_sampler_desc &desc() const { return d_; }

private:
    struct Cand {
        float logit;
        int32_t id;
    };
    // Most likely first, the lower id among equals: a total order, so every selection
    // method keeps the tokens a full sort would.
    static bool before(const Cand &a, const Cand &b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); }
    // The steps of sample(): gather the candidates (returns their count), bias and penalise
    // them, then pick the most likely, or truncate (returns the kept count k and the
    // largest logit) and draw.
    int gather(const float *logits, const TokenConstraint *c, bool adjusted);
    float *find(int n, int32_t id);                          // a candidate's logit by token id (nullptr: not one)
    void adjust(int n, const int32_t *recent, int n_recent); // recent nullptr: no penalties
    int32_t pick_most_likely(int n);
    int truncate(int n, float *max);
    int32_t draw(int n, int k, float max);
    int32_t pick_greedy(int n);
    static constexpr int kMaxHeapSelect = 256; // longer prefixes: nth_element
    void fill_all();                           // cand_ = every token of view_, in id order
    void select_top(int len);                  // cand_[0..len) = the best len of view_ (unsorted)

    sm_sampler_desc d_{};
    int n_vocab_ = 0;
    Rng rng_;
    sm_logit_bias *bias_ = nullptr;
    Cand *cand_ = nullptr;
    float *prob_ = nullptr;
    float *adj_ = nullptr;        // the logits after biases and penalties, by token id
    const float *view_ = nullptr; // this call's logits by id: the caller's row or adj_
    bool all_ = true;             // this call has no constraint: candidates are every token
    bool filled_ = false;         // cand_ holds every candidate
    int32_t *window_ = nullptr;   // sorted copy of the penalty window
};

} // namespace sm
