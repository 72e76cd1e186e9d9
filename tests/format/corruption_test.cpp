// Truncated and bit-flipped copies of the real fixture files: every one must load or fail
// with a clear status, never crash (ASan in the sanitize build checks the "never").
#include <catch2/catch.hpp>

#include "format/model_file.h"
#include "test_support.h"
#include "smallmind/smallmind.h"

#include <cstring>
#include <random>

namespace {

// Loads through the public API with a generous budget; returns the status.
sm_status try_load(const std::string &path, const char *tok) {
    sm_runtime_desc d = sm_runtime_desc_default();
    d.memory_budget = size_t(64) << 20;
    d.isa = SM_ISA_SCALAR;
    sm_runtime *rt = nullptr;
    REQUIRE(sm_runtime_create(&d, &rt) == SM_OK);
    sm_model *m = nullptr;
    sm_model_desc md = sm_model_desc_default();
    md.n_ctx = 64;
    sm_status st = sm_model_load(rt, path.c_str(), tok, &md, &m);
    if (st != SM_OK) {
        INFO(sm_last_error(rt));
        CHECK(strlen(sm_last_error(rt)) > 0);
    }
    sm_model_destroy(m);
    sm_runtime_destroy(rt);
    return st;
}

void corrupt_and_load(const std::string &src, const char *tok) {
    const auto orig = smtest::read_fixture(src);
    REQUIRE(!orig.empty());
    const std::string path = smtest::temp_path("corrupt.bin");
    std::mt19937 rng(1234);
    int errors = 0, loads = 0;
    // Truncations: at many offsets, always an error.
    for (int i = 0; i < 60; i++) {
        size_t cut = i < 40 ? static_cast<size_t>(i) * orig.size() / 40 : rng() % orig.size();
        std::vector<uint8_t> b(orig.begin(), orig.begin() + static_cast<long>(cut));
        smtest::write_file(path, b);
        sm_status st = try_load(path, tok);
        CHECK(st != SM_OK);
        errors += st != SM_OK;
    }
    // Bit flips, mostly in headers and metadata where they matter: load or clean error.
    for (int i = 0; i < 120; i++) {
        std::vector<uint8_t> b = orig;
        size_t limit = i % 3 == 0 ? b.size() : (b.size() < 20000 ? b.size() : 20000);
        size_t at = rng() % limit;
        b[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
        smtest::write_file(path, b);
        sm_status st = try_load(path, tok);
        loads += st == SM_OK;
        errors += st != SM_OK;
    }
    WARN("loaded " << loads << ", rejected " << errors);
}

} // namespace

TEST_CASE("corruption: truncated and bit-flipped GGUF never crashes", "[format][corruption]") {
    corrupt_and_load(smtest::fixture("stories260K.gguf"), nullptr);
}

TEST_CASE("corruption: truncated and bit-flipped llama2.c checkpoint never crashes", "[format][corruption]") {
    const std::string tok = smtest::fixture("tok512.bin");
    corrupt_and_load(smtest::fixture("stories260K.bin"), tok.c_str());
}

TEST_CASE("corruption: truncated and bit-flipped tokenizer.bin never crashes", "[format][corruption]") {
    const std::string model = smtest::fixture("stories260K.bin");
    const std::string tok = smtest::fixture("tok512.bin");
    // Here the tokenizer file is the one damaged.
    const auto orig = smtest::read_fixture(tok);
    const std::string path = smtest::temp_path("corrupt_tok.bin");
    std::mt19937 rng(99);
    for (int i = 0; i < 40; i++) {
        std::vector<uint8_t> b(orig.begin(), orig.begin() + static_cast<long>(i * orig.size() / 40));
        smtest::write_file(path, b);
        CHECK(try_load(model, path.c_str()) == SM_ERR_FORMAT);
    }
    for (int i = 0; i < 60; i++) {
        std::vector<uint8_t> b = orig;
        b[rng() % b.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
        smtest::write_file(path, b);
        sm_status st = try_load(model, path.c_str());
        CHECK((st == SM_OK || st == SM_ERR_FORMAT));
    }
}

TEST_CASE("llama2.c: legacy and version-1 headers, shared and separate classifier", "[format]") {
    using namespace sm;
    // Build tiny checkpoints by hand: dim 8, hidden 16, 2 layers, 2 heads, 1 KV head, vocab 5, seq 4.
    const int dim = 8, hid = 16, L = 2, H = 2, KV = 1, V = 5, seq = 4, hd = dim / H, kvd = KV * hd;
    auto weights = [&](bool shared) {
        size_t n = V * dim + L * dim + L * dim * dim + 2 * L * kvd * dim + L * dim * dim + L * dim + 3 * L * hid * dim + dim;
        if (!shared) n += V * dim;
        return n;
    };
    for (bool shared : {true, false}) {
        // legacy (v0)
        std::vector<uint8_t> b(28);
        int32_t h[7] = {dim, hid, L, H, KV, shared ? V : -V, seq};
        memcpy(b.data(), h, 28);
        size_t floats = weights(shared) + seq * hd; // RoPE tables: 2 x seq x hd/2
        b.resize(28 + floats * 4, 0);
        ModelFile m;
        Error err;
        REQUIRE(model_from_llama2c(b.data(), b.size(), m, err) == SM_OK);
        CHECK(m.hp.n_kv_heads == 1);
        CHECK(m.tied() == shared);
        // one byte short: clear error
        err.clear();
        ModelFile m2;
        CHECK(model_from_llama2c(b.data(), b.size() - 1, m2, err) == SM_ERR_FORMAT);
        // version 1
        std::vector<uint8_t> v1(256, 0);
        uint32_t magic = 0x616b3432;
        int32_t version = 1;
        memcpy(v1.data(), &magic, 4);
        memcpy(v1.data() + 4, &version, 4);
        int32_t h1[7] = {dim, hid, L, H, KV, V, seq};
        memcpy(v1.data() + 8, h1, 28);
        v1[36] = shared ? 1 : 0;
        v1.resize(256 + weights(shared) * 4, 0);
        ModelFile m3;
        err.clear();
        REQUIRE(model_from_llama2c(v1.data(), v1.size(), m3, err) == SM_OK);
        CHECK(m3.tied() == shared);
    }
}
