// Every place the forward pass splits a batch's rows (threads, frame slices, chunks) must
// keep the kernel table's activation layout, which may depend on the batch's row count
// (kernels.h, prepare_act). Prompts of 1 to 300 tokens, 1 to 5 threads, every quantized
// type, on every table here and on the grouped layout's portable definition (so that a
// split bug shows on machines without AVX-512 VNNI too): the logits of every position
// must not change by a bit.
#include <catch2/catch.hpp>

#include "api/handles.h"
#include "kernels/grouped_act_reference.h"
#include "model_fixture.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

std::string cli() {
    char buf[4096];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    std::string exe(buf, n > 0 ? static_cast<size_t>(n) : 0);
    return exe.substr(0, exe.find_last_of('/')) + "/smallmind";
}

// A tiny synthetic model of this weight type, written by `smallmind synth-model`.
std::string synth_model(const char *type) {
    const std::string path = smtest::temp_path(std::string("row_split_") + type + ".gguf");
    const std::string cmd = "'" + cli() + "' synth-model --preset tiny --type " + type + " --seed 4 --out '" + path +
                            "' 2>/dev/null";
    REQUIRE(access(cli().c_str(), X_OK) == 0);
    REQUIRE(system(cmd.c_str()) == 0);
    return path;
}

// Logits of every position of `tokens`, evaluated in batches of up to 256 rows.
// table: a kernel table to run instead of the runtime's choice (nullptr: the isa's).
std::vector<float> eval(const std::string &path, sm_isa isa, const sm::kern::Kernels *table, int threads,
                        const std::vector<int32_t> &tokens) {
    sm_runtime_desc d = sm_runtime_desc_default();
    d.memory_budget = size_t(64) << 20;
    d.isa = isa;
    d.threads = threads;
    sm_runtime *rt = nullptr;
    REQUIRE(sm_runtime_create(&d, &rt) == SM_OK);
    if (table) rt->kernels = table;
    sm_model_desc md = sm_model_desc_default();
    md.all_logits = 1;
    md.max_batch = 256;
    md.n_ctx = 512;
    sm_model *m = nullptr;
    sm_session *s = nullptr;
    std::vector<float> logits(tokens.size() * 512);
    const sm_status st = sm_model_load(rt, path.c_str(), nullptr, &md, &m);
    if (st == SM_OK && sm_session_create(m, nullptr, &s) == SM_OK)
        CHECK(sm_session_eval(s, tokens.data(), tokens.size(), logits.data(), logits.size()) == SM_OK);
    else FAIL_CHECK("load failed: " << sm_last_error(rt));
    sm_session_destroy(s);
    sm_model_destroy(m);
    sm_runtime_destroy(rt);
    return logits;
}

} // namespace

TEST_CASE("forward: prompts of 1-300 tokens give the same logits at 1, 2, 3 and 5 threads, every table", "[infer][threads]") {
    struct Table {
        const char *label;
        sm_isa isa;
        const sm::kern::Kernels *table;
    };
    std::vector<Table> tables = {{"grouped reference", SM_ISA_SCALAR, &kt::grouped_reference_table()}};
    for (sm_isa isa : smtest::isas_here()) tables.push_back({smtest::isa_label(isa), isa, nullptr});
    for (const char *type : {"q8_0", "q4_0", "f16"}) {
        const std::string model = synth_model(type);
        for (const Table &t : tables)
            for (int n : {1, 5, 11, 12, 13, 17, 40, 100, 150, 300}) {
                std::vector<int32_t> tokens(static_cast<size_t>(n));
                for (int i = 0; i < n; i++) tokens[static_cast<size_t>(i)] = 1 + i * 37 % 500;
                const std::vector<float> base = eval(model, t.isa, t.table, 1, tokens);
                for (int threads : {2, 3, 5}) {
                    INFO(type << " on " << t.label << ", " << n << " tokens, " << threads << " threads");
                    const std::vector<float> got = eval(model, t.isa, t.table, threads, tokens);
                    CHECK(memcmp(got.data(), base.data(), base.size() * sizeof(float)) == 0);
                }
            }
    }
}
