// The trainer: it learns (overfit), its schedule, and its determinism: the same
// parameter bytes for every step budget and thread count, no heap allocation per step,
// and a resumed run that ends where an uninterrupted one does.
#include <catch2/catch.hpp>

#include "../test_support.h"
#include "core/parallel.h"
#include "kernels/tables.h"
#include "trainer_fixture.h"

#include <cstring>

using namespace sm::train;

namespace {

TrainConfig tiny_config() {
    TrainConfig c;
    c.batch = 2;
    c.seq_len = 17;
    c.accum_steps = 2;
    c.lr = 3e-3f;
    c.lr_min = 3e-4f;
    c.warmup_steps = 2;
    c.total_steps = 10;
    c.seed = 42;
    c.init_random = true;
    return c;
}

struct Pool {
    sm::ThreadPool pool;
    sm::Parallel par;
    explicit Pool(int threads) {
        if (threads > 1) {
            pool.start(threads - 1);
            par.use_pool(&pool);
        }
    }
    ~Pool() { pool.stop(); }
};

// Parameters after `steps` optimizer steps run with this budget per call.
std::vector<float> train_params(int threads, uint32_t budget_us, int steps, const sm::kern::Kernels *k) {
    Pool pool(threads);
    ParamLayout p;
    REQUIRE(p.init(trt::tiny_hparams(), false));
    trt::Owned o;
    REQUIRE(trt::make(o, p, tiny_config(), Compute{k, &pool.par, sm::kern::train_kernels_for(k->isa)}));
    trt::random_data(o, 2000, p.hp().n_vocab, 4, 7);
    TrainStepResult r;
    for (int guard = 0; o.t->steps_done() < steps && guard < 1000000; guard++) o.t->step(budget_us, r);
    REQUIRE(o.t->steps_done() == steps);
    return std::vector<float>(o.t->params(), o.t->params() + p.total());
}

} // namespace

TEST_CASE("trainer: overfits one batch to a loss below 0.05", "[train][trainer]") {
    ParamLayout p;
    REQUIRE(p.init(trt::tiny_hparams(32, 32, 64, 2, 4, 2), false));
    TrainConfig c;
    c.batch = 2;
    c.seq_len = 16;
    c.lr = 1e-2f;
    c.lr_min = 1e-3f;
    c.warmup_steps = 5;
    c.total_steps = 300;
    c.weight_decay = 0.0f;
    c.init_random = true;
    trt::Owned o;
    REQUIRE(trt::make(o, p, c, Compute{&sm::kern::kRefKernels, nullptr}));
    trt::random_data(o, 2 * 16 + 1, 32, 0, 3); // exactly one batch of two sequences
    REQUIRE(o.t->n_train_sequences() == 2);
    TrainStepResult r;
    float first = 0;
    for (int s = 0; s < 300; s++) {
        o.t->step(0, r);
        REQUIRE(r.step_done);
        if (s == 0) first = r.loss;
    }
    INFO("first loss " << first << ", last " << r.loss);
    CHECK(first > 3.0f); // ln 32 = 3.47 from random weights
    CHECK(r.loss < 0.05f);
}

TEST_CASE("trainer: warm-up then cosine decay to the floor", "[train][trainer]") {
    ParamLayout p;
    REQUIRE(p.init(trt::tiny_hparams(), false));
    TrainConfig c = tiny_config();
    c.lr = 1.0f;
    c.lr_min = 0.1f;
    c.warmup_steps = 4;
    c.total_steps = 14;
    trt::Owned o;
    REQUIRE(trt::make(o, p, c, Compute{&sm::kern::kRefKernels, nullptr}));
    CHECK(o.t->lr_at(0) == Approx(0.25f));
    CHECK(o.t->lr_at(3) == Approx(1.0f));
    CHECK(o.t->lr_at(4) == Approx(1.0f));
    CHECK(o.t->lr_at(9) == Approx(0.55f));
    CHECK(o.t->lr_at(14) == Approx(0.1f));
    CHECK(o.t->lr_at(100) == Approx(0.1f));
}

TEST_CASE("trainer: parameters are bit-identical for every step budget and thread count", "[train][trainer][determinism]") {
    const sm::kern::Kernels *k = trt::best_table();
    REQUIRE(k);
    const std::vector<float> ref = train_params(1, 0, 3, k);
    for (int threads : {1, 2, 3})
        for (uint32_t budget : {0u, 1u, 500u}) {
            INFO(threads << " threads, budget " << budget << " us");
            const std::vector<float> got = train_params(threads, budget, 3, k);
            CHECK(memcmp(got.data(), ref.data(), ref.size() * sizeof(float)) == 0);
        }
}

TEST_CASE("trainer: no heap allocation per step", "[train][trainer][alloc]") {
    for (int threads : {1, 2}) {
        Pool pool(threads);
        ParamLayout p;
        REQUIRE(p.init(trt::tiny_hparams(), true));
        trt::Owned o;
        REQUIRE(trt::make(o, p, tiny_config(),
                          Compute{trt::best_table(), &pool.par, sm::kern::train_kernels_for(trt::best_table()->isa)}));
        trt::random_data(o, 2000, p.hp().n_vocab, 4, 7);
        TrainStepResult r;
        o.t->step(0, r);
        const uint64_t before = smtest::heap_allocations();
        for (int i = 0; i < 200; i++) o.t->step(100, r);
        o.t->step(0, r);
        const uint64_t after = smtest::heap_allocations();
        INFO(threads << " threads");
        CHECK(o.t->steps_done() >= 2);
        CHECK(after - before == 0);
    }
}

TEST_CASE("trainer: a run resumed from a checkpoint ends bit-identical", "[train][trainer][checkpoint]") {
    const sm::kern::Kernels *k = trt::best_table();
    ParamLayout p;
    REQUIRE(p.init(trt::tiny_hparams(), false));
    // 200 tokens: 11 sequences, 9 for training, so the data wraps into a new epoch
    TrainConfig c = tiny_config();
    auto run = [&](trt::Owned &o, int from, int to) {
        TrainStepResult r;
        for (int s = from; s < to; s++) o.t->step(0, r);
    };
    trt::Owned a;
    REQUIRE(trt::make(a, p, c, Compute{k, nullptr, sm::kern::train_kernels_for(k->isa)}));
    trt::random_data(a, 200, p.hp().n_vocab, 2, 9);
    run(a, 0, 7);
    std::vector<uint8_t> ckpt;
    {
        trt::Owned b;
        REQUIRE(trt::make(b, p, c, Compute{k, nullptr, sm::kern::train_kernels_for(k->isa)}));
        trt::random_data(b, 200, p.hp().n_vocab, 2, 9);
        run(b, 0, 3);
        ckpt.resize(b.t->checkpoint_bytes());
        b.t->save_checkpoint(ckpt.data());
    }
    trt::Owned r;
    REQUIRE(trt::make(r, p, c, Compute{k, nullptr, sm::kern::train_kernels_for(k->isa)}));
    trt::random_data(r, 200, p.hp().n_vocab, 2, 9);
    REQUIRE(r.t->load_checkpoint(ckpt.data(), ckpt.size()));
    CHECK(r.t->steps_done() == 3);
    run(r, 3, 7);
    CHECK(memcmp(r.t->params(), a.t->params(), static_cast<size_t>(p.total()) * sizeof(float)) == 0);
    // a checkpoint of another configuration is refused
    TrainConfig other = c;
    other.batch = 3;
    trt::Owned x;
    REQUIRE(trt::make(x, p, other, Compute{k, nullptr, sm::kern::train_kernels_for(k->isa)}));
    trt::random_data(x, 200, p.hp().n_vocab, 2, 9);
    CHECK_FALSE(x.t->load_checkpoint(ckpt.data(), ckpt.size()));
    // and so is one made on other tokens of the same length
    trt::Owned y;
    REQUIRE(trt::make(y, p, c, Compute{k, nullptr, sm::kern::train_kernels_for(k->isa)}));
    trt::random_data(y, 200, p.hp().n_vocab, 2, 10);
    CHECK_FALSE(y.t->load_checkpoint(ckpt.data(), ckpt.size()));
}

TEST_CASE("trainer: held-out loss of random weights is near ln(vocab)", "[train][trainer]") {
    ParamLayout p;
    REQUIRE(p.init(trt::tiny_hparams(), false));
    trt::Owned o;
    REQUIRE(trt::make(o, p, tiny_config(), Compute{&sm::kern::kRefKernels, nullptr}));
    trt::random_data(o, 2000, p.hp().n_vocab, 5, 7);
    CHECK(o.t->eval(0) == Approx(std::log(37.0)).epsilon(0.05));
}
