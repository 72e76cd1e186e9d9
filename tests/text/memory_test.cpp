// The tokenizers' memory rules: plan() is exact for build() and for encode()'s scratch,
// the PCRE2 region has room to spare, and encode() never touches the heap.
#include <catch2/catch.hpp>

#include "text/pretokenize.h"
#include "text_fixture.h"

#include <random>

using namespace sm;
using namespace sm::text;

namespace {

std::string repeat(const std::string &s, size_t n) {
    std::string r;
    for (size_t i = 0; i < n; i++) r += s;
    return r;
}

// Encodes with a scratch Bump of exactly `bytes`; returns the status.
sm_status encode_with(const smtest::BuiltTokenizer &bt, const std::string &text, uint32_t flags, size_t bytes,
                      size_t *n_out = nullptr) {
    std::vector<int32_t> out(text.size() * 4 + 8);
    Bump s = Bump::over(bt.scratch->p, bytes);
    size_t n = 0;
    Error err;
    sm_status st = bt.tok.encode(text, flags, out.data(), out.size(), &n, s, err);
    CHECK(s.used == 0); // scratch is handed back
    if (n_out) *n_out = n;
    return st;
}

} // namespace

TEST_CASE("memory: plan() gives exactly the arena bytes build() takes", "[text]") {
    std::vector<std::string> files = {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf", "stories260K.gguf"};
    for (const std::string &f : files) {
        smtest::GgufVocab gv(smtest::fixture(f));
        REQUIRE(gv.ok);
        smtest::BuiltTokenizer bt(gv.v, 100);
        INFO(f);
        REQUIRE(bt.status == SM_OK);
        CHECK(bt.arena_used == bt.table_bytes);
        // One byte less does not fit, and fails cleanly.
        smtest::AlignedBuf mem(bt.table_bytes);
        Bump b = Bump::over(mem.p, bt.table_bytes - 1);
        Tokenizer t;
        Error err;
        CHECK(t.build(gv.v, b, err) == SM_ERR_CAPACITY);
    }
    std::vector<uint8_t> bin = smtest::read_fixture(smtest::data_path("tok512.bin"));
    VocabSource lv;
    std::vector<char> storage;
    Error err;
    REQUIRE(vocab_from_llama2c(bin.data(), bin.size(), 512, lv, storage, err) == SM_OK);
    smtest::BuiltTokenizer bt(lv, 100);
    REQUIRE(bt.status == SM_OK);
    CHECK(bt.arena_used == bt.table_bytes);

    // Every pre-tokenizer (on the GPT-2 vocabulary).
    smtest::GgufVocab gv(smtest::fixture("ggml-vocab-gpt-2.gguf"));
    REQUIRE(gv.ok);
    for (const char *pre : {"default", "llama-bpe", "qwen2", "starcoder", "falcon", "deepseek-llm", "deepseek-coder"}) {
        VocabSource v = gv.v;
        v.pre = pre;
        smtest::BuiltTokenizer b2(v, 100);
        INFO(pre);
        REQUIRE(b2.status == SM_OK);
        CHECK(b2.arena_used == b2.table_bytes);
    }
}

TEST_CASE("memory: the PCRE2 region is at least twice what compiling takes", "[text]") {
    for (const char *pre : {"gpt-2", "default", "llama-bpe", "qwen2", "starcoder", "falcon", "deepseek-llm", "deepseek-coder"}) {
        const PreSpec *spec = find_pre_spec(pre);
        REQUIRE(spec);
        smtest::AlignedBuf region(pre_region_bytes(*spec));
        Pretokenizer p;
        Error err;
        INFO(pre);
        REQUIRE(p.compile(*spec, region.p, region.n, err) == SM_OK);
        CHECK(p.region.high * 2 <= p.region.cap);
        CHECK_FALSE(p.region.exhausted);
        p.release();
        // Too small a region is a clear capacity error.
        Pretokenizer q;
        err.clear();
        CHECK(q.compile(*spec, region.p, 4096, err) == SM_ERR_CAPACITY);
        CHECK(std::string(err.message).find("region") != std::string::npos);
    }
}

TEST_CASE("memory: encode() fits the planned scratch exactly, worst cases included", "[text]") {
    const int kMax = 300;
    struct Case {
        const char *file;
        std::vector<std::pair<std::string, uint32_t>> texts;
    };
    std::vector<Case> cases = {
        {"ggml-vocab-llama-spm.gguf",
         {{repeat(" ", kMax), 0},
          {repeat("\xFF", kMax), kAddBos},
          {repeat("<s>", kMax / 3), kParseSpecial},
          {repeat("ab", kMax / 2), 0},
          {repeat("\xF0\x9F\x99\x82", kMax / 4), kAddBos},
          {repeat("\xC3 ", kMax / 2), 0},
          {repeat("\xE0 ", kMax / 2), 0}}},
        {"ggml-vocab-gpt-2.gguf",
         {{repeat(" ", kMax), 0},
          {repeat("\xFF", kMax), 0},
          {repeat("<|endoftext|>", kMax / 13), kParseSpecial},
          {repeat("a", kMax), 0},
          {repeat("1", kMax), kAddBos},
          {repeat("\xED\xA0\x80", kMax / 3), 0}}},
    };
    for (const Case &c : cases) {
        smtest::GgufVocab gv(smtest::fixture(c.file));
        REQUIRE(gv.ok);
        smtest::BuiltTokenizer bt(gv.v, kMax);
        REQUIRE(bt.status == SM_OK);
        for (const auto &t : c.texts) {
            INFO(c.file << " text of " << t.first.size() << " bytes, flags " << t.second);
            REQUIRE(t.first.size() <= static_cast<size_t>(kMax));
            CHECK(encode_with(bt, t.first, t.second, bt.scratch_bytes) == SM_OK);
        }
        // The planned size is exact for the longest text...
        CHECK(encode_with(bt, repeat("a", kMax), 0, bt.scratch_bytes - 1) == SM_ERR_CAPACITY);
        // ...and a longer text is refused cleanly.
        CHECK(encode_with(bt, repeat("a", kMax + 1), 0, bt.scratch_bytes) == SM_ERR_CAPACITY);
        // Too small an output array: SM_ERR_CAPACITY with the count needed.
        std::vector<int32_t> out(2);
        Bump s = bt.scratch_bump();
        size_t n = 0;
        Error err;
        CHECK(bt.tok.encode("Hello world, how are you?", 0, out.data(), out.size(), &n, s, err) == SM_ERR_CAPACITY);
        CHECK(n > 2);
        CHECK(bt.encode("Hello world, how are you?", 0).size() == n);
    }
}

TEST_CASE("memory: encode() makes no heap allocation", "[text]") {
    for (const char *file : {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf"}) {
        for (const char *pre : {"", "llama-bpe", "deepseek-llm"}) {
            smtest::GgufVocab gv(smtest::fixture(file));
            REQUIRE(gv.ok);
            if (*pre && gv.v.model != "gpt2") continue;
            if (*pre) gv.v.pre = pre;
            smtest::BuiltTokenizer bt(gv.v, 4096);
            REQUIRE(bt.status == SM_OK);
            const std::string texts[] = {
                "Hello world! It's 12345 o'clock.\n\n\tIndented  text   ",
                "日本語 🦙 \xFF\xC3 broken \xED\xA0\x80 bytes <s> <|endoftext|>",
                std::string(4000, 'x'),
            };
            std::vector<int32_t> out(20000);
            uint64_t allocs = 0;
            for (const std::string &t : texts) {
                for (uint32_t flags : {0u, 1u, 2u, 3u}) {
                    Bump s = bt.scratch_bump();
                    size_t n = 0;
                    Error err;
                    uint64_t before = smtest::heap_allocations();
                    sm_status st = bt.tok.encode(t, flags, out.data(), out.size(), &n, s, err);
                    allocs += smtest::heap_allocations() - before;
                    REQUIRE(st == SM_OK);
                }
            }
            INFO(file << " " << pre);
            CHECK(allocs == 0);
        }
    }
}
