// The model's memory plan: parts by name, laid out back to back in the table's order,
// each within the block the total promises; a model without a vocabulary has no
// tokenizer parts; the C API's numbers are the plan's.
#include <catch2/catch.hpp>

#include "model/model_plan.h"
#include "test_support.h"

#include <cstring>
#include <string>

using namespace sm;

namespace {

ModelPlan sample_plan(bool tokenizer) {
    ModelPlan p;
    p.has_tokenizer = tokenizer;
    p.bytes.model = 1000;
    p.bytes.weights = 64 * 100;
    p.bytes.tokenizer_tables = tokenizer ? 777 : 0;
    p.bytes.tokenizer_scratch = tokenizer ? 5 : 0;
    p.bytes.activations = 3;
    p.bytes.kv_cache = 4096;
    p.bytes.sessions = 65;
    p.bytes.scheduler = 1;
    return p;
}

} // namespace

TEST_CASE("model plan: parts in table order, each its own span, inside the total", "[model]") {
    for (bool tok : {true, false}) {
        const ModelPlan p = sample_plan(tok);
        alignas(64) static uint8_t block[32768];
        REQUIRE(p.total() <= sizeof block);
        size_t expect_at = 0, n = 0;
        for (const ModelPart &part : kModelParts) {
            Bump b = p.part(block, part.bytes);
            if (part.tokenizer && !tok) {
                CHECK(b.cap == 0); // absent: nothing fits
                CHECK(b.take(1) == nullptr);
                continue;
            }
            INFO(part.name);
            CHECK(static_cast<size_t>(b.base - block) == expect_at);
            CHECK(reinterpret_cast<uintptr_t>(b.base) % kCacheLine == 0);
            CHECK(b.cap >= p.bytes.*part.bytes + kCacheLine); // room for one more aligned take
            expect_at += b.cap;
            n++;
        }
        CHECK(expect_at == p.total());
        size_t printed = 0;
        std::string names;
        p.each_part([&](const char *name, size_t) { printed++, names += std::string(name) + ","; });
        CHECK(printed == n);
        CHECK(names == (tok ? "model,weights,tokenizer tables,tokenizer scratch,activations,kv cache,sessions,scheduler,adapters,"
                            : "model,weights,activations,kv cache,sessions,scheduler,adapters,"));
    }
}

TEST_CASE("model plan: the C API reports the plan's total and parts", "[model][api]") {
    const std::string path = smtest::repo_path("assets/stories260K.gguf");
    sm_runtime_desc rd = sm_runtime_desc_default();
    rd.memory_budget = 64u << 20;
    sm_runtime *rt = nullptr;
    REQUIRE(sm_runtime_create(&rd, &rt) == SM_OK);
    size_t need = 0;
    REQUIRE(sm_model_memory_required(rt, path.c_str(), nullptr, nullptr, &need) == SM_OK);
    sm_model *m = nullptr;
    REQUIRE(sm_model_load(rt, path.c_str(), nullptr, nullptr, &m) == SM_OK);
    sm_model_info info;
    REQUIRE(sm_model_get_info(m, &info) == SM_OK);
    CHECK(info.total_bytes == need);
    char text[4096];
    REQUIRE(sm_model_describe(m, text, sizeof text, nullptr) == SM_OK);
    for (const char *name :
         {"weights", "tokenizer tables", "tokenizer scratch", "activations", "kv cache", "sessions", "scheduler"})
        CHECK(strstr(text, name) != nullptr);
    char total[64];
    snprintf(total, sizeof total, "%-18s %12zu bytes", "total", need);
    CHECK(strstr(text, total) != nullptr);
    sm_model_destroy(m);

    // Too small a budget: the message names the bytes needed.
    sm_runtime *small = nullptr;
    rd.memory_budget = need / 2;
    REQUIRE(sm_runtime_create(&rd, &small) == SM_OK);
    CHECK(sm_model_load(small, path.c_str(), nullptr, nullptr, &m) == SM_ERR_BUDGET);
    const std::string msg = sm_last_error(small);
    CHECK(msg.find("needs " + std::to_string(need) + " bytes") != std::string::npos);
    sm_runtime_destroy(small);
    sm_runtime_destroy(rt);
}
