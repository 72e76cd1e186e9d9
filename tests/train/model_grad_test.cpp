// The whole model's gradient against central finite differences of the double
// precision reference loss, on a random sample of every tensor's parameters: the
// stories260K checkpoint (GQA, tied classifier) and a tiny random untied model.
#include <catch2/catch.hpp>

#include "../model_fixture.h"
#include "api/handles.h"
#include "reference_double.h"
#include "train/weights_io.h"
#include "trainer_fixture.h"

#include <algorithm>

using namespace sm::train;

namespace {

void check_model_gradient(const ParamLayout &p, const std::vector<float> &initial, int B, int T, uint32_t seed) {
    TrainConfig c;
    c.batch = B;
    c.seq_len = T;
    trt::Owned o;
    Compute comp{&sm::kern::kRefKernels, nullptr};
    REQUIRE(trt::make(o, p, c, comp, initial.data()));
    std::mt19937 g(seed);
    std::vector<int32_t> tokens(static_cast<size_t>(B) * T), targets(tokens.size());
    for (auto &x : tokens) x = static_cast<int32_t>(g() % static_cast<uint32_t>(p.hp().n_vocab));
    for (auto &x : targets) x = static_cast<int32_t>(g() % static_cast<uint32_t>(p.hp().n_vocab));
    const double loss = o.t->gradient(tokens.data(), targets.data());
    trt::Vec P(initial.begin(), initial.end());
    auto f = [&] { return trt::model_loss(p, P, tokens, targets, B, T); };
    CHECK(loss == Approx(f()).epsilon(1e-4));
    const float *G = o.t->grads();
    double gmax = 0;
    for (int64_t i = 0; i < p.total(); i++) gmax = std::max(gmax, std::fabs(static_cast<double>(G[i])));
    int bad = 0, checked = 0;
    for (int ti = 0; ti < p.n_tensors(); ti++) {
        const TensorSlot s = p.tensor(ti);
        const int64_t n = static_cast<int64_t>(s.rows) * s.cols;
        for (int k = 0; k < 4; k++) {
            const int64_t i = s.offset + static_cast<int64_t>(g() % static_cast<uint64_t>(n));
            const double fd = trt::central_diff(P, static_cast<size_t>(i), 1e-4, f);
            checked++;
            if (std::fabs(G[i] - fd) > 1e-3 * gmax + 1e-2 * std::fabs(fd)) {
                bad++;
                UNSCOPED_INFO(s.name << " [" << i - s.offset << "]: backward " << G[i] << ", finite difference " << fd);
            }
        }
    }
    INFO(checked << " parameters checked, largest gradient " << gmax);
    CHECK(bad == 0);
}

} // namespace

TEST_CASE("train model: stories260K gradient against finite differences", "[train][model]") {
    smtest::Loaded L;
    REQUIRE(smtest::load(L, smtest::stories_path("gguf"), SM_ISA_SCALAR, sm_model_desc_default()));
    const sm_model *M = sm::api::model_of(L.model); // the object behind the handle
    REQUIRE(M);
    const bool tied = M->w.output.data == M->w.tok_embd.data;
    ParamLayout p;
    REQUIRE(p.init(M->hp, tied));
    REQUIRE(weights_match(p, M->w));
    std::vector<float> initial(static_cast<size_t>(p.total()));
    gather_params(p, M->w, initial.data());
    INFO("tied " << tied << ", " << p.total() << " parameters");
    check_model_gradient(p, initial, 1, 17, 1);
    check_model_gradient(p, initial, 2, 5, 2);
}

TEST_CASE("train model: untied tiny model gradient against finite differences", "[train][model]") {
    ParamLayout p;
    REQUIRE(p.init(trt::tiny_hparams(), false));
    std::vector<float> initial = trt::randf(static_cast<size_t>(p.total()), 21, 0.2f);
    for (int64_t i = 0; i < p.decay_from(); i++) initial[i] = 1.0f + 0.1f * initial[i];
    check_model_gradient(p, initial, 2, 17, 3);
    check_model_gradient(p, initial, 3, 1, 4);
}
