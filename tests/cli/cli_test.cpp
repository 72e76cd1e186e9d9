// The smallmind command as a user runs it: exact stdout, exit codes, files it writes.
#include <catch2/catch.hpp>

#include "model_fixture.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// The smallmind binary built next to this test binary.
std::string cli() {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    std::string exe(buf, n > 0 ? static_cast<size_t>(n) : 0);
    return exe.substr(0, exe.find_last_of('/')) + "/smallmind";
}

struct Run {
    int code;
    std::string out, err;
};

Run run(const std::string &args) {
    const std::string err_path = smtest::temp_path("cli_stderr.txt");
    const std::string cmd = "cd '" + smtest::repo_path("") + "' && '" + cli() + "' " + args + " 2>'" + err_path + "'";
    Run r;
    FILE *p = popen(cmd.c_str(), "r");
    REQUIRE(p);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int st = pclose(p);
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    auto e = smtest::read_file(err_path);
    r.err.assign(e.begin(), e.end());
    return r;
}

bool have_cli() {
    if (access(cli().c_str(), X_OK) == 0) return true;
    WARN("smallmind binary not built next to the tests: CLI tests skipped");
    return false;
}

} // namespace

TEST_CASE("cli: generate prints the fixture story greedily from the default model", "[cli]") {
    if (!have_cli()) return;
    Run r = run("generate --prompt \"Once upon a time\" -n 176 --temp 0");
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out == smtest::Stories::get().text);
    // Sliced into 50 us steps, the same text.
    Run s = run("generate --prompt \"Once upon a time\" -n 176 --temp 0 --step-budget-us 50");
    CHECK(s.out == r.out);
}

TEST_CASE("cli: generate --tokens 1 --ids prints the fixture's first 180 ids", "[cli]") {
    if (!have_cli()) return;
    Run r = run("generate --model '" + smtest::fixture("stories260K.gguf") + "' --tokens 1 -n 180 --ids");
    INFO(r.err);
    REQUIRE(r.code == 0);
    std::istringstream in(r.out);
    std::vector<int32_t> ids;
    for (int x; in >> x;) ids.push_back(x);
    const auto &fx = smtest::Stories::get();
    CHECK(ids == std::vector<int32_t>(fx.ids.begin(), fx.ids.begin() + 180));
}

TEST_CASE("cli: sampling is seeded and slicing-invariant", "[cli]") {
    if (!have_cli()) return;
    Run a = run("generate -n 80 --temp 0.9 --seed 5");
    Run b = run("generate -n 80 --temp 0.9 --seed 5 --step-budget-us 20 --threads 2");
    Run c = run("generate -n 80 --temp 0.9 --seed 6");
    CHECK(a.code == 0);
    CHECK(a.out == b.out);
    CHECK(a.out != c.out);
}

TEST_CASE("cli: convert reproduces assets/stories260K.gguf byte for byte", "[cli]") {
    if (!have_cli()) return;
    const std::string out = smtest::temp_path("converted.gguf");
    Run r = run("convert --llama2c '" + smtest::fixture("stories260K.bin") + "' --tokenizer '" + smtest::fixture("tok512.bin") +
                "' --out '" + out + "'");
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(smtest::read_file(out) == smtest::read_file(smtest::repo_path("assets/stories260K.gguf")));
}

TEST_CASE("cli: logits writes every position's logits, matching the fixture", "[cli]") {
    if (!have_cli()) return;
    const auto &fx = smtest::Stories::get();
    std::string ids;
    for (int32_t t : fx.inputs()) ids += (ids.empty() ? "" : ",") + std::to_string(t);
    const std::string out = smtest::temp_path("logits.f32");
    Run r = run("logits --model '" + smtest::fixture("stories260K.bin") + "' --tokenizer '" + smtest::fixture("tok512.bin") +
                "' --tokens " + ids + " --out '" + out + "'");
    INFO(r.err);
    REQUIRE(r.code == 0);
    auto b = smtest::read_file(out);
    REQUIRE(b.size() == 256 * 512 * 4);
    double d = 0;
    for (size_t i = 0; i < 256 * 512; i++) {
        float f;
        memcpy(&f, b.data() + 4 * i, 4);
        d = std::max(d, std::fabs(double(f) - fx.logits[i]));
    }
    CHECK(d <= 1e-4);
}

// Quantized weights through the whole runtime: each table loads them in its own layout
// (AVX2: Rows8, kernels.h) and must agree with the scalar oracle. Row 0 of the batch sees
// no attention reordering, so it agrees to float rounding; later rows may differ by an
// 8-bit activation rounding step where the float paths differ in the last bit.
TEST_CASE("cli: quantized synth models give the scalar oracle's logits on every ISA", "[cli]") {
    if (!have_cli()) return;
    for (const char *preset : {"tiny", "tiny-tied"}) // tied: the embedding is the classifier, in its layout
        for (const char *type : {"q8_0", "q4_0", "f32", "f16"}) {
            INFO(preset << " " << type);
            const std::string model = smtest::temp_path(std::string("synth_") + preset + "_" + type + ".gguf");
            Run s = run(std::string("synth-model --preset ") + preset + " --type " + type + " --seed 3 --out '" + model + "'");
            REQUIRE(s.code == 0);
            std::vector<std::vector<uint8_t>> out;
            for (const char *isa : {"scalar", "auto", "avx2"}) {
                const std::string f = smtest::temp_path(std::string("synth_logits_") + isa + ".f32");
                Run r = run("logits --model '" + model + "' --tokens 1,7,300,42,9,500,3,3,3,77,12,64,65,66,200,1,2,3 --isa " +
                            isa + " --out '" + f + "'");
                if (r.code != 0 && std::string(isa) == "avx2") continue; // a CPU without AVX2
                INFO(isa << ": " << r.err);
                REQUIRE(r.code == 0);
                out.push_back(smtest::read_file(f));
            }
            for (size_t k = 1; k < out.size(); k++) {
                REQUIRE(out[k].size() == out[0].size());
                REQUIRE(out[0].size() == 18 * 512 * 4);
                double first = 0, rest = 0;
                for (size_t i = 0; i < 18 * 512; i++) {
                    float a, b;
                    memcpy(&a, out[0].data() + 4 * i, 4);
                    memcpy(&b, out[k].data() + 4 * i, 4);
                    (i < 512 ? first : rest) = std::max(i < 512 ? first : rest, std::fabs(double(a) - b));
                }
                CHECK(first <= 1e-5);
                CHECK(rest <= 3e-2);
            }
        }
}

// Sliced stepping cuts a matrix's rows wherever the budget ends; the slices must keep the
// layouts' row groups whole (quantized weights take Rows8 on AVX2), or sliced generation
// differs from unsliced.
TEST_CASE("cli: quantized synth models give the same tokens for every step budget", "[cli]") {
    if (!have_cli()) return;
    for (const char *type : {"q8_0", "q4_0", "f32"}) {
        INFO(type);
        const std::string model = smtest::temp_path(std::string("synth_slices_") + type + ".gguf");
        REQUIRE(run(std::string("synth-model --preset tiny --type ") + type + " --seed 4 --out '" + model + "'").code == 0);
        std::string base;
        for (const char *budget : {"0", "1", "40", "300"})
            for (const char *threads : {"1", "2"}) {
                INFO("budget " << budget << " us, " << threads << " threads");
                Run r = run("generate --model '" + model + "' --tokens 1,7,300 -n 40 --temp 0.8 --seed 5 --step-budget-us " +
                            budget + " --threads " + threads);
                REQUIRE(r.code == 0);
                if (base.empty()) base = r.out;
                CHECK(r.out == base);
            }
        CHECK(base.size() > 40);
        // A 300-token prompt in batches of 256 rows: the per-row work between the matrix
        // products (norms, activation quantization, SwiGLU, residual adds) is split across
        // the threads too, and must not change a token.
        std::string prompt = "1";
        for (int i = 1; i < 300; i++) prompt += "," + std::to_string(1 + i * 37 % 500);
        std::string long_base;
        for (const char *threads : {"1", "2", "3"}) {
            INFO("long prompt, " << threads << " threads");
            Run r = run("generate --model '" + model + "' --tokens " + prompt +
                        " -n 20 --temp 0.8 --seed 5 --batch 256 --ctx 512 --threads " + threads);
            REQUIRE(r.code == 0);
            if (long_base.empty()) long_base = r.out;
            CHECK(r.out == long_base);
        }
    }
}

TEST_CASE("cli: info, tokenize and detokenize", "[cli]") {
    if (!have_cli()) return;
    Run i = run("info");
    CHECK(i.code == 0);
    CHECK(i.out.find("kv cache") != std::string::npos);
    Run t = run("tokenize --text \"Once upon a time\" --ids");
    CHECK(t.code == 0);
    CHECK(t.out == "403 407 261 378\n");
    Run d = run("detokenize --tokens 403,407,261,378");
    CHECK(d.out == " Once upon a time");
    const std::string f = smtest::temp_path("text.txt");
    smtest::write_file(f, {'O', 'n', 'c', 'e', '\n'});
    Run tf = run("tokenize --file '" + f + "' --ids --bos");
    CHECK(tf.out.rfind("1 403 ", 0) == 0); // BOS first, the newline kept as a byte token
}

TEST_CASE("cli: bad input is an error message and a non-zero exit, never a crash", "[cli]") {
    if (!have_cli()) return;
    Run a = run("generate --model /nonexistent.gguf");
    CHECK(a.code == 1);
    CHECK(a.err.find("/nonexistent.gguf") != std::string::npos);
    Run b = run("generate --frobnicate 3");
    CHECK(b.code == 2);
    CHECK(b.err.find("--frobnicate") != std::string::npos);
    Run c = run("generate --tokens 1,99999 -n 3");
    CHECK(c.code == 1);
    CHECK(c.err.find("99999") != std::string::npos);
    Run d = run("generate --budget-mb 1");
    CHECK(d.code == 1);
    CHECK(d.err.find("budget") != std::string::npos);
    Run e = run("frobnicate");
    CHECK(e.code == 2);
}

TEST_CASE("cli: --config gives defaults from TOML; flags win; unknown keys are errors", "[cli]") {
    if (!have_cli()) return;
    const std::string cfg = smtest::temp_path("cfg.toml");
    const std::string text = "[sampler]\ntemperature = 0.0\n[generate]\nmax_tokens = 176\nprompt = \"Once upon a time\"\n";
    smtest::write_file(cfg, std::vector<uint8_t>(text.begin(), text.end()));
    Run r = run("generate --config '" + cfg + "'");
    CHECK(r.code == 0);
    CHECK(r.out == smtest::Stories::get().text);
    Run shorter = run("generate --config '" + cfg + "' -n 4");
    CHECK(shorter.out.size() < r.out.size());
    const std::string bad = smtest::temp_path("bad.toml");
    const std::string b = "[model]\nbogus = 1\n";
    smtest::write_file(bad, std::vector<uint8_t>(b.begin(), b.end()));
    Run e = run("generate --config '" + bad + "'");
    CHECK(e.code == 2);
    CHECK(e.err.find("model.bogus") != std::string::npos);
}

// The GB/s the bench reports counts what a decode step reads: every weight but an untied
// embedding (a token reads one of its rows). tiny: vocab 512 x dim 64 F32 = 131072 bytes.
TEST_CASE("cli: bench counts the weight bytes a decode step reads", "[cli]") {
    if (!have_cli()) return;
    auto field = [](const std::string &json, const char *key) {
        const size_t at = json.find(std::string("\"") + key + "\": ");
        return at == std::string::npos ? -1.0 : atof(json.c_str() + at + strlen(key) + 4);
    };
    for (const char *preset : {"tiny", "tiny-tied"}) {
        INFO(preset);
        const std::string model = smtest::temp_path(std::string("synth_bytes_") + preset + ".gguf");
        REQUIRE(run(std::string("synth-model --preset ") + preset + " --type f32 --seed 2 --out '" + model + "'").code == 0);
        Run b = run("bench --model '" + model + "' --pp 8 --tg 4 --reps 1 --json");
        REQUIRE(b.code == 0);
        const double all = field(b.out, "weight_bytes"), decode = field(b.out, "decode_weight_bytes");
        REQUIRE(all > 0);
        CHECK(all - decode == (std::string(preset) == "tiny" ? 512.0 * 64 * 4 : 0.0));
    }
}

TEST_CASE("cli: bench and frames print their JSON objects with every key", "[cli]") {
    if (!have_cli()) return;
    Run b = run("bench --pp 128,512 --tg 128 --reps 1 --json");
    INFO(b.err);
    REQUIRE(b.code == 0);
    for (const char *k : {"\"model\"", "\"type\"", "\"threads\"", "\"pp128_tok_s\"", "\"pp512_tok_s\"", "\"tg128_tok_s\"",
                          "\"ms_per_token_p50\"", "\"ms_per_token_p99\"", "\"arena_bytes\"", "\"heap_allocs_after_load\": 0"}) {
        INFO(k);
        CHECK(b.out.find(k) != std::string::npos);
    }
    // --sessions K really runs K sessions (it is a model option: K KV slots planned).
    Run f = run("frames --sessions 4 --frames 30 --no-sleep --evict-mb 1 --json");
    INFO(f.err);
    REQUIRE(f.code == 0);
    for (const char *k : {"\"step_us_p50\"", "\"step_us_p99\"", "\"step_us_max\"", "\"overrun_us_p99\"", "\"overrun_us_max\"",
                          "\"cpu_overrun_us_p99\"", "\"cpu_overrun_us_max\"", "\"sliced_tok_s\"", "\"sliced_cpu_tok_s\"",
                          "\"unsliced_tok_s\"", "\"steal_s\"", "\"sessions\": 4,"}) {
        INFO(k);
        CHECK(f.out.find(k) != std::string::npos);
    }
    CHECK(f.out.find("\"tokens\": 0,") == std::string::npos);
}

TEST_CASE("cli: machine measures its limits and the timing jitter of 2 ms of fixed work", "[cli]") {
    if (!have_cli()) return;
    Run m = run("machine --reps 1 --jitter-s 0.3 --json");
    INFO(m.err << m.out);
    REQUIRE(m.code == 0);
    for (const char *k :
         {"\"fma_gflops\"", "\"read_gbs\"", "\"DRAM\"", "\"jitter\"", "\"wall_excess_us_p99\"", "\"cpu_excess_us_max\""}) {
        INFO(k);
        CHECK(m.out.find(k) != std::string::npos);
    }
    // The chunks are calibrated to 2 ms: a loop the compiler hoisted would time nothing.
    // (No upper bound: on a shared machine the wall time of 2 ms of work has none.)
    const size_t at = m.out.find("\"median_us\": ");
    REQUIRE(at != std::string::npos);
    const double med = atof(m.out.c_str() + at + 13);
    CHECK(med > 1000);
}

TEST_CASE("cli: generate --lora and export give the same greedy text; bad adapters are errors", "[cli][lora]") {
    if (!have_cli()) return;
    const std::string adapter = smtest::temp_path("cli_adapter.gguf"), merged = smtest::temp_path("cli_merged.gguf");
    REQUIRE(run("synth-adapter --rank 8 --alpha 16 --b-std 0.01 --seed 3 --out '" + adapter + "'").code == 0);
    Run base = run("generate -n 60");
    Run unmerged = run("generate -n 60 --lora '" + adapter + "'");
    REQUIRE(unmerged.code == 0);
    CHECK(unmerged.out != base.out); // the adapter changes the story
    REQUIRE(run("export --lora '" + adapter + "' --out '" + merged + "' --type f32").code == 0);
    Run m = run("generate -n 60 --model '" + merged + "'");
    REQUIRE(m.code == 0);
    CHECK(m.out == unmerged.out);
    // A scale of 0 is the base model.
    CHECK(run("generate -n 60 --lora '" + adapter + ":0'").out == base.out);
    Run bad = run("generate -n 5 --lora '" + smtest::repo_path("assets/stories260K.gguf") + "'");
    CHECK(bad.code == 1);
    CHECK(bad.err.find("adapter") != std::string::npos);
}

namespace {

void write_text(const std::string &path, const std::string &text) {
    smtest::write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
}

// The line of `smallmind info` that starts with `key`, e.g. "heads         6 (kv 2, head size 8)".
std::string info_line(const std::string &info, const std::string &key) {
    std::istringstream in(info);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(key + " ", 0) == 0) return line.substr(line.find_first_not_of(' ', key.size()));
    return "";
}

} // namespace

TEST_CASE("cli: train --config trains the TOML's shape and schedule, as the same flags do", "[cli][train]") {
    if (!have_cli()) return;
    std::string text;
    for (int i = 0; i < 10; i++) text += smtest::Stories::get().text + "\n";
    const std::string data = smtest::temp_path("cfg_train.txt"), cfg = smtest::temp_path("cfg_train.toml"),
                      a = smtest::temp_path("cfg_a.gguf"), b = smtest::temp_path("cfg_b.gguf"),
                      plot = smtest::temp_path("cfg_plot.png");
    write_text(data, text);
    // An lr with more digits than std::to_string keeps: the file's value must reach the
    // trainer exactly, or the two models below differ.
    write_text(cfg, "[runtime]\nthreads = 2\n[train]\ndata = \"" + data +
                        "\"\nvocab = \"bytes\"\ndim = 48\nhidden = 80\nlayers = 3\nheads = 6\nkv_heads = 2\nseq = 24\n"
                        "batch = 3\nsteps = 6\nlr = 1.2345678e-3\nwarmup = 2\nseed = 9\neval_every = 3\nplot = \"" +
                        plot + "\"\njson = true\nout = \"" + a + "\"\n");
    Run r = run("train --config '" + cfg + "'");
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(r.out.find("\"steps\": 6,") != std::string::npos); // json = true
    CHECK(access(plot.c_str(), R_OK) == 0);
    Run i = run("info --model '" + a + "'");
    REQUIRE(i.code == 0);
    CHECK(info_line(i.out, "dim") == "48");
    CHECK(info_line(i.out, "hidden") == "80");
    CHECK(info_line(i.out, "layers") == "3");
    CHECK(info_line(i.out, "heads") == "6 (kv 2, head size 8)");
    CHECK(info_line(i.out, "tokenizer").rfind("gpt2 (256 tokens", 0) == 0);
    CHECK(info_line(i.out, "context").rfind("trained 24,", 0) == 0);
    // The same settings as flags give the same bytes.
    Run f = run("train --data '" + data +
                "' --vocab bytes --dim 48 --hidden 80 --layers 3 --heads 6 --kv-heads 2 --seq 24 --batch 3 --steps 6 "
                "--lr 1.2345678e-3 --warmup 2 --seed 9 --eval-every 3 --threads 2 --out '" +
                b + "'");
    REQUIRE(f.code == 0);
    CHECK(smtest::read_file(a) == smtest::read_file(b));
    // Flags win over the file.
    Run w = run("train --config '" + cfg + "' --steps 2 --out '" + b + "'");
    CHECK(w.code == 0);
    CHECK(w.out.find("\"steps\": 2,") != std::string::npos);
    CHECK(smtest::read_file(a) != smtest::read_file(b));
    // [train] is train's alone: generate ignores it (train.seed is not the sampler's seed).
    Run g = run("generate --config '" + cfg + "' --model '" + a + "' --prompt Once -n 20 --temp 0.8");
    CHECK(g.code == 0);
    CHECK(g.out == run("generate --model '" + a + "' --prompt Once -n 20 --temp 0.8 --threads 2").out);
    CHECK(g.out != run("generate --model '" + a + "' --prompt Once -n 20 --temp 0.8 --threads 2 --seed 9").out);
}

TEST_CASE("cli: train --config with the shipped demo/cli/train.toml", "[cli][train]") {
    if (!have_cli()) return;
    const std::string data = smtest::temp_path("cfg_shipped.txt"), out = smtest::temp_path("cfg_shipped.gguf");
    std::string text;
    for (int i = 0; i < 20; i++) text += smtest::Stories::get().text + "\n";
    write_text(data, text);
    Run r = run("train --config demo/cli/train.toml --data '" + data + "' --steps 1 --eval-every 1 --eval-sequences 2 --out '" +
                out + "' --plot '" + smtest::temp_path("cfg_shipped.png") + "'");
    INFO(r.err);
    REQUIRE(r.code == 0);
    Run i = run("info --model '" + out + "'");
    CHECK(info_line(i.out, "dim") == "128");
    CHECK(info_line(i.out, "layers") == "4");
}

TEST_CASE("cli: a bad value in train's TOML is an error naming the key, and a non-zero exit", "[cli][train]") {
    if (!have_cli()) return;
    const std::string data = smtest::temp_path("cfg_bad.txt"), cfg = smtest::temp_path("cfg_bad.toml");
    write_text(data, smtest::Stories::get().text);
    const std::string head = "[train]\ndata = \"" + data + "\"\nvocab = \"bytes\"\nsteps = 2\nout = \"" +
                             smtest::temp_path("cfg_bad.gguf") + "\"\nhidden = 32\nlayers = 1\n";
    struct Case {
        const char *toml, *message;
        int code;
    } cases[] = {
        {"dim = \"big\"\nheads = 2\n", "cfg_bad.toml:8: 'train.dim' must be an integer, not 'big'", 2},
        {"dim = 16.5\nheads = 2\n", "'train.dim' must be an integer, not 16.5", 2},
        {"dim = 16\nheads = 2\nlr = \"fast\"\n", "'train.lr' must be a number", 2},
        {"dim = 16\nheads = 2\njson = 1\n", "'train.json' must be true or false", 2},
        {"dim = 16\nheads = 2\nlayer = 2\n", "unknown key 'train.layer'", 2},
        {"dim = 16\nheads = 2\n[train]\n", "cannot redefine existing table 'train' (line 10)", 2}, // TOML's own error
        {"dim = 16\nheads = 3\n", "--heads", 1},                              // 16 is not a multiple of 3 heads
        {"dim = 16\nheads = 2\nkv_heads = 3\n", "multiple of --kv-heads", 1}, // 2 heads in groups of 3
        {"dim = -16\nheads = 2\n", "positive --dim", 1},
        {"dim = 16\nheads = 2\nlr = -1.0\n", "lr > 0", 1},
    };
    for (const Case &c : cases) {
        INFO(c.toml);
        write_text(cfg, head + c.toml);
        Run r = run("train --config '" + cfg + "'");
        INFO(r.err);
        CHECK(r.code == c.code);
        CHECK(r.err.find(c.message) != std::string::npos);
    }
}
