// A Trainer on plain memory for the tests (the C API puts it in the runtime's arena).
#pragma once
#include "kernels/tables.h"
#include "train/trainer.h"

#include <cstdlib>
#include <memory>
#include <vector>

namespace trt {

struct Owned {
    std::unique_ptr<sm::train::Trainer> t;
    void *block = nullptr;
    std::vector<int32_t> data;
    std::vector<uint32_t> order;
    Owned() = default;
    Owned(const Owned &) = delete;
    ~Owned() { free(block); }
};

// The widest kernel table this CPU runs.
inline const sm::kern::Kernels *best_table() {
    const sm::kern::Kernels *all[16];
    const int n = sm::kern::all_tables(all, 16);
    const sm::CpuFeatures f = sm::detect_cpu();
    const sm::kern::Kernels *best = &sm::kern::kRefKernels;
    for (int i = 0; i < n; i++)
        if (sm::kern::can_run(*all[i], f)) best = all[i];
    return best;
}

inline sm::Hparams tiny_hparams(int vocab = 37, int dim = 24, int hidden = 40, int layers = 2, int heads = 4, int kv_heads = 2) {
    sm::Hparams hp;
    hp.n_vocab = vocab;
    hp.dim = dim;
    hp.hidden_dim = hidden;
    hp.n_layers = layers;
    hp.n_heads = heads;
    hp.n_kv_heads = kv_heads;
    hp.head_dim = dim / heads;
    hp.n_ctx_train = 512;
    return hp;
}

inline bool make(Owned &o, const sm::train::ParamLayout &p, const sm::train::TrainConfig &c, const sm::train::Compute &comp,
                 const float *initial = nullptr) {
    sm::train::TrainerSizes sz;
    sm::Error err;
    if (!sm::train::Trainer::plan(p, c, sz, err)) return false;
    o.block = aligned_alloc(64, (sz.total + 63) / 64 * 64);
    o.t.reset(new sm::train::Trainer);
    o.t->init(p, c, comp, o.block, initial);
    return true;
}

// n random tokens below vocab, all but n_heldout sequences for training.
inline void random_data(Owned &o, int64_t n, int vocab, int64_t n_heldout, uint32_t seed) {
    std::mt19937 g(seed);
    o.data.resize(static_cast<size_t>(n));
    for (auto &x : o.data) x = static_cast<int32_t>(g() % static_cast<uint32_t>(vocab));
    o.order.resize(static_cast<size_t>(sm::train::Trainer::sequences_in(n, o.t->config().seq_len)));
    o.t->set_data(o.data.data(), n, n_heldout, o.order.data());
}

} // namespace trt
