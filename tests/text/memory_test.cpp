// The tokenizers' memory rules: plan() is exact for build() and for encode()'s scratch,
// the PCRE2 region has room to spare, and encode() never touches the heap.
#include <catch2/catch.hpp>

#include "text/pretokenize.h"
#include "text_fixture.h"

#include <cstring>
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

TEST_CASE("memory: build() copying plan()'s trial build equals a fresh build, in the planned bytes", "[text]") {
    auto check = [](const VocabSource &v, const std::string &what, const std::vector<std::string> &texts) {
        INFO(what);
        smtest::BuiltTokenizer fresh(v, 100);
        REQUIRE(fresh.status == SM_OK);
        // The trial is planned from a copy whose pieces are then dropped: a build that read
        // the vocabulary again instead of copying the trial would fail on it.
        VocabSource planned = v;
        TokenizerTrial trial;
        size_t tb = 0, sb = 0;
        Error err;
        REQUIRE(Tokenizer::plan(planned, 100, &tb, &sb, err, &trial) == SM_OK);
        CHECK(tb == fresh.table_bytes);
        CHECK(sb == fresh.scratch_bytes);
        planned.tokens.clear();
        planned.merges.clear();
        smtest::AlignedBuf mem(tb);
        Bump b = Bump::over(mem.p, tb);
        Tokenizer t;
        REQUIRE(t.build(planned, b, err, &trial) == SM_OK);
        CHECK(b.used == tb);
        // build() has freed the trial: a pointer the copy kept into it is a use after free
        // below (ASan), or reads garbage.
        CHECK(t.kind() == fresh.tok.kind());
        CHECK(t.n_vocab() == fresh.tok.n_vocab());
        CHECK(t.bos() == fresh.tok.bos());
        CHECK(t.eos() == fresh.tok.eos());
        CHECK(t.eot() == fresh.tok.eot());
        CHECK(t.add_bos() == fresh.tok.add_bos());
        CHECK(t.strips_leading_space() == fresh.tok.strips_leading_space());
        CHECK(t.chat_template() == fresh.tok.chat_template());
        int differ = 0;
        for (int32_t id = 0; id < t.n_vocab(); id++) {
            char a[512], c[512];
            const size_t na = t.token_bytes(id, a, sizeof a, true), nc = fresh.tok.token_bytes(id, c, sizeof c, true);
            if (t.piece(id) != fresh.tok.piece(id) || t.is_control(id) != fresh.tok.is_control(id) ||
                t.is_end_of_generation(id) != fresh.tok.is_end_of_generation(id) || na != nc ||
                memcmp(a, c, na < sizeof a ? na : sizeof a) != 0)
                differ++;
        }
        CHECK(differ == 0);
        for (const std::string &text : texts)
            for (uint32_t flags : {0u, uint32_t(kAddBos | kParseSpecial)}) {
                std::vector<int32_t> x(text.size() * 3 + 8), y(x.size());
                size_t nx = 0, ny = 0;
                Bump s1 = fresh.scratch_bump(), s2 = fresh.scratch_bump();
                Error e1, e2;
                REQUIRE(fresh.tok.encode(text, flags, x.data(), x.size(), &nx, s1, e1) == SM_OK);
                REQUIRE(t.encode(text, flags, y.data(), y.size(), &ny, s2, e2) == SM_OK);
                x.resize(nx);
                y.resize(ny);
                CHECK(x == y);
            }
        t.release();
    };
    const std::vector<std::string> texts = {"Hello world, how are you?", " \xC3\xA9t\xC3\xA9  caf\xC3\xA9\n\t12345 don't",
                                            "<s>Once upon a time</s><|endoftext|>", "\xFF\xE2\x96\x81 x"};
    for (const char *f : {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf", "stories260K.gguf"}) {
        smtest::GgufVocab gv(smtest::fixture(f));
        REQUIRE(gv.ok);
        check(gv.v, f, texts);
        VocabSource v = gv.v;
        v.chat_template = "{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>{% endfor %}";
        check(v, std::string(f) + " with a chat template", texts);
    }
    smtest::GgufVocab gv(smtest::fixture("ggml-vocab-gpt-2.gguf"));
    REQUIRE(gv.ok);
    for (const char *pre : {"llama-bpe", "qwen2"}) { // ignore_merges; another set of expressions
        VocabSource v = gv.v;
        v.pre = pre;
        check(v, pre, texts);
    }
    // A trial of another VocabSource object is not copied: build() builds from the one it
    // is given (here llama-bpe's expressions split digits in threes, GPT-2's do not).
    VocabSource other = gv.v;
    other.pre = "llama-bpe";
    TokenizerTrial trial;
    size_t tb = 0, sb = 0;
    Error err;
    REQUIRE(Tokenizer::plan(other, 100, &tb, &sb, err, &trial) == SM_OK);
    smtest::BuiltTokenizer fresh(gv.v, 100);
    REQUIRE(fresh.status == SM_OK);
    smtest::AlignedBuf mem(fresh.table_bytes);
    Bump b = Bump::over(mem.p, fresh.table_bytes);
    Tokenizer t;
    REQUIRE(t.build(gv.v, b, err, &trial) == SM_OK);
    CHECK(b.used == fresh.table_bytes);
    smtest::BuiltTokenizer llama_bpe(other, 100);
    REQUIRE(llama_bpe.status == SM_OK);
    Bump s = fresh.scratch_bump();
    const std::string digits = "1234567890123";
    std::vector<int32_t> y(32);
    size_t ny = 0;
    REQUIRE(t.encode(digits, 0, y.data(), y.size(), &ny, s, err) == SM_OK);
    y.resize(ny);
    CHECK(y == fresh.encode(digits, 0));
    CHECK(y != llama_bpe.encode(digits, 0));
    t.release();
}
