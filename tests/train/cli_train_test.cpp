// `smallmind train` and `smallmind gradients` as a user runs them.
#include <catch2/catch.hpp>

#include "../model_fixture.h"

#include <cstdio>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace {

std::string cli() {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    std::string exe(buf, n > 0 ? static_cast<size_t>(n) : 0);
    return exe.substr(0, exe.find_last_of('/')) + "/smallmind";
}

int run(const std::string &args, std::string *out) {
    const std::string cmd = "cd '" + smtest::repo_path("") + "' && '" + cli() + "' " + args + " 2>/dev/null";
    FILE *p = popen(cmd.c_str(), "r");
    REQUIRE(p);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
    const int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

double json_number(const std::string &s, const std::string &key) {
    const size_t at = s.find("\"" + key + "\": ");
    REQUIRE(at != std::string::npos);
    return std::stod(s.substr(at + key.size() + 4));
}

} // namespace

TEST_CASE("cli: train from scratch on text lowers the held-out loss; the model file is reproducible", "[train][cli]") {
    if (access(cli().c_str(), X_OK) != 0) {
        WARN("smallmind binary not built next to the tests: skipped");
        return;
    }
    std::string text;
    for (int i = 0; i < 20; i++) text += smtest::Stories::get().text + "\n";
    const std::string data = smtest::temp_path("train_text.txt"), a = smtest::temp_path("cli_a.gguf"),
                      b = smtest::temp_path("cli_b.gguf");
    smtest::write_file(data, std::vector<uint8_t>(text.begin(), text.end()));
    const std::string args = "train --data '" + data +
                             "' --dim 32 --hidden 64 --layers 2 --heads 4 --kv-heads 2 --vocab bytes --steps 40 "
                             "--batch 4 --seq 32 --lr 3e-3 --warmup 4 --heldout 0.1 --step-budget-us 200 --json --out ";
    std::string out1, out2;
    REQUIRE(run(args + "'" + a + "'", &out1) == 0);
    INFO(out1);
    CHECK(json_number(out1, "steps") == 40);
    CHECK(json_number(out1, "heldout_loss") < 0.7 * json_number(out1, "loss_first"));
    REQUIRE(run(args + "'" + b + "'", &out2) == 0);
    CHECK(smtest::read_file(a) == smtest::read_file(b));
    std::string gen;
    CHECK(run("generate --model '" + a + "' --prompt 'Once' -n 8 --temp 0", &gen) == 0);
}

TEST_CASE("cli: gradients of a llama2.c checkpoint and its GGUF conversion agree", "[train][cli]") {
    if (access(cli().c_str(), X_OK) != 0) return;
    std::string o1, o2;
    const std::string g1 = smtest::temp_path("grad_bin.gguf"), g2 = smtest::temp_path("grad_gguf.gguf");
    REQUIRE(run("gradients --model '" + smtest::stories_path("bin") + "' --tokenizer '" + smtest::fixture("tok512.bin") +
                    "' --ids 1,403,407,261,378,162 --out '" + g1 + "'",
                &o1) == 0);
    REQUIRE(run("gradients --model '" + smtest::stories_path("gguf") + "' --ids 1,403,407,261,378,162 --out '" + g2 + "'", &o2) ==
            0);
    CHECK(o1 == o2);
    CHECK(o1.rfind("loss ", 0) == 0);
    std::string bad;
    CHECK(run("gradients --model '" + smtest::stories_path("gguf") + "' --ids 1,99999 --out '" + g2 + "'", &bad) != 0);
}

TEST_CASE("cli: finetune trains an adapter that generate --lora applies; bad targets are a usage error", "[train][lora][cli]") {
    if (access(cli().c_str(), X_OK) != 0) {
        WARN("smallmind binary not built next to the tests: skipped");
        return;
    }
    const std::string a = smtest::temp_path("cli_finetuned.gguf");
    std::string out;
    REQUIRE(run("finetune --data '" + smtest::fixture("finetune.txt") +
                    "' --lora-rank 4 --lora-targets q,v,down --steps 30 --batch 4 --seq 32 --lr 1e-2 --heldout 0.15 "
                    "--step-budget-us 300 --json --out '" +
                    a + "'",
                &out) == 0);
    INFO(out);
    CHECK(json_number(out, "steps") == 30);
    CHECK(json_number(out, "heldout_loss") < 0.85 * json_number(out, "heldout_loss_first"));
    std::string base, tuned;
    REQUIRE(run("generate --prompt 'Pip the little robot' -n 24 --temp 0", &base) == 0);
    REQUIRE(run("generate --prompt 'Pip the little robot' -n 24 --temp 0 --lora '" + a + "'", &tuned) == 0);
    CHECK(tuned != base);
    std::string bad;
    CHECK(run("finetune --data '" + smtest::fixture("finetune.txt") + "' --lora-targets q,x --steps 2 --out '" + a + "'", &bad) ==
          2);
}
