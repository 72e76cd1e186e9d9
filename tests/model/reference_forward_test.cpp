// The scalar reference forward pass against the fixture logits (computed in double by an
// outside implementation).
#include <catch2/catch.hpp>

#include "format/model_file.h"
#include "model/reference_forward.h"
#include "model_fixture.h"

#include <cmath>
#include <vector>

using namespace sm;

static void check_reference(const std::string &path, const char *tok) {
    const auto &fx = smtest::Stories::get();
    REQUIRE(fx.ids.size() == 256);
    REQUIRE(fx.logits.size() == 256 * 512);
    ModelFile f;
    Error err;
    REQUIRE(open_model_file(path.c_str(), tok, f, err) == SM_OK);
    Bump mw = Bump::measuring();
    Weights w;
    REQUIRE(bind_weights(f, mw, w, err) == SM_OK);
    const size_t need = mw.used + ReferenceForward::bytes_needed(f.hp, 256) + 256;
    std::vector<uint8_t> mem(need + 64);
    uint8_t *base = mem.data() + (64 - reinterpret_cast<uintptr_t>(mem.data()) % 64) % 64;
    Bump b = Bump::over(base, need);
    REQUIRE(bind_weights(f, b, w, err) == SM_OK);
    ReferenceForward ref;
    ref.init(f.hp, w, 256, b);
    REQUIRE_FALSE(b.overflowed());
    const auto in = fx.inputs();
    double max_diff = 0;
    for (int pos = 0; pos < 256; pos++) {
        const float *l = ref.forward(in[static_cast<size_t>(pos)], pos);
        for (int v = 0; v < 512; v++)
            max_diff = std::max(max_diff, std::fabs(double(l[v]) - fx.logits[static_cast<size_t>(pos) * 512 + v]));
    }
    INFO(path << ": max |logit - fixture| = " << max_diff);
    CHECK(max_diff <= 1e-4);
}

TEST_CASE("reference forward: stories260K.bin logits match the fixture at all 256 positions", "[model]") {
    const std::string tok = smtest::fixture("tok512.bin");
    check_reference(smtest::stories_path("bin"), tok.c_str());
}

TEST_CASE("reference forward: stories260K.gguf logits match the fixture at all 256 positions", "[model]") {
    check_reference(smtest::stories_path("gguf"), nullptr);
}
