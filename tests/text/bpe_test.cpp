// GPT-2 byte-level BPE: llama.cpp's published vectors, the pre-tokenizer splits of
// each supported tokenizer.ggml.pre on tricky strings, and the failure modes.
#include <catch2/catch.hpp>

#include "text/pretokenize.h"
#include "text_fixture.h"

using namespace sm;
using namespace sm::text;

namespace {

std::string gpt2_gguf() { return smtest::fixture("ggml-vocab-gpt-2.gguf"); }

std::string ids_str(const std::vector<int32_t> &ids) {
    std::string s;
    for (int32_t id : ids) s += std::to_string(id) + " ";
    return s;
}

// The words pre-tokenizer `pre` cuts text into.
std::vector<std::string> split(const char *pre, const std::string &text) {
    const PreSpec *spec = find_pre_spec(pre);
    REQUIRE(spec);
    smtest::AlignedBuf region(pre_region_bytes(*spec));
    Pretokenizer p;
    Error err;
    REQUIRE(p.compile(*spec, region.p, region.n, err) == SM_OK);
    std::vector<uint32_t> a(text.size() + 1), b(text.size() + 1);
    smtest::AlignedBuf ms_mem(match_scratch_bytes(p.jit));
    MatchScratch ms;
    REQUIRE(ms.init(ms_mem.p, ms_mem.n, p.jit, err) == SM_OK);
    const uint32_t *ends = nullptr;
    size_t n = 0;
    REQUIRE(p.split(text.data(), text.size(), a.data(), b.data(), &ends, &n, ms, err) == SM_OK);
    std::vector<std::string> words;
    uint32_t start = 0;
    for (size_t i = 0; i < n; i++) {
        words.push_back(text.substr(start, ends[i] - start));
        start = ends[i];
    }
    p.release();
    return words;
}

using W = std::vector<std::string>;

} // namespace

TEST_CASE("bpe: llama.cpp's ggml-vocab-gpt-2 vectors, encode and decode", "[text]") {
    smtest::GgufVocab gv(gpt2_gguf());
    REQUIRE(gv.ok);
    smtest::BuiltTokenizer bt(gv.v, 4096);
    REQUIRE(bt.status == SM_OK);
    CHECK(bt.arena_used == bt.table_bytes);
    CHECK(bt.tok.kind() == TokenizerKind::Bpe);
    CHECK(bt.tok.n_vocab() == 50257);
    CHECK_FALSE(bt.tok.strips_leading_space());
    CHECK_FALSE(bt.tok.add_bos());

    smtest::VocabVectors vec = smtest::read_vectors(gpt2_gguf());
    REQUIRE(vec.inputs.size() == 46);
    REQUIRE(vec.expected.size() == vec.inputs.size());
    for (size_t i = 0; i < vec.inputs.size(); i++) {
        INFO("case " << i << ": '" << vec.inputs[i] << "'");
        CHECK(ids_str(bt.encode(vec.inputs[i], 0)) == ids_str(vec.expected[i]));
        CHECK(bt.decode(vec.expected[i]) == vec.inputs[i]);
    }
}

TEST_CASE("bpe: special tokens, BOS, decoding control tokens", "[text]") {
    smtest::GgufVocab gv(gpt2_gguf());
    REQUIRE(gv.ok);
    smtest::BuiltTokenizer bt(gv.v, 4096);
    REQUIRE(bt.status == SM_OK);
    const int32_t eot = 50256; // <|endoftext|>
    CHECK(bt.tok.eos() == eot);
    CHECK(bt.tok.bos() == eot);
    CHECK(bt.tok.is_control(eot));
    CHECK(bt.tok.is_end_of_generation(eot));
    CHECK(bt.encode("Hello world", 0) == std::vector<int32_t>{15496, 995});
    CHECK(bt.encode("Hello world", kAddBos) == std::vector<int32_t>{eot, 15496, 995});
    CHECK(bt.encode("a<|endoftext|>b", kParseSpecial) == std::vector<int32_t>{64, eot, 65});
    std::vector<int32_t> plain = bt.encode("a<|endoftext|>b", 0);
    CHECK(std::find(plain.begin(), plain.end(), eot) == plain.end());
    CHECK(bt.decode(plain) == "a<|endoftext|>b");
    CHECK(bt.decode({64, eot, 65}) == "ab");
    CHECK(bt.decode({64, eot, 65}, true) == "a<|endoftext|>b");
    char buf[4];
    CHECK(bt.tok.token_bytes(15496, buf, 2) == 5); // "Hello": full length, 2 bytes written
    CHECK(bt.tok.token_bytes(-1, buf, 4) == 0);
    CHECK(bt.tok.token_bytes(50257, buf, 4) == 0);
}

TEST_CASE("bpe: invalid UTF-8 reads as U+FFFD per bad byte, like llama.cpp", "[text]") {
    smtest::GgufVocab gv(gpt2_gguf());
    REQUIRE(gv.ok);
    smtest::BuiltTokenizer bt(gv.v, 4096);
    REQUIRE(bt.status == SM_OK);
    const std::string fffd = "\xEF\xBF\xBD";
    // A stray byte, a truncated sequence, a byte above F4: each becomes U+FFFD.
    CHECK(bt.decode(bt.encode("a\xFF"
                              "b",
                              0)) == "a" + fffd + "b");
    CHECK(bt.decode(bt.encode("\xE2\x82", 0)) == fffd + fffd);
    CHECK(bt.decode(bt.encode("x\xF8y", 0)) == "x" + fffd + "y");
    // Overlong forms count as their code point (llama.cpp's decoder accepts them).
    CHECK(bt.decode(bt.encode("\xC1\xA1", 0)) == "a");
    // Beyond U+10FFFF (llama.cpp throws): U+FFFD per byte.
    CHECK(bt.decode(bt.encode("\xF4\x90\x80\x80", 0)) == fffd + fffd + fffd + fffd);
    // A surrogate stays itself.
    CHECK(bt.decode(bt.encode("\xED\xA0\x80", 0)) == "\xED\xA0\x80");
}

TEST_CASE("bpe: unsupported vocabularies fail clearly in plan() and build()", "[text]") {
    smtest::GgufVocab gv(gpt2_gguf());
    REQUIRE(gv.ok);
    size_t tb = 0, sb = 0;
    Error err;
    VocabSource v = gv.v;
    v.pre = "no-such-pre-tokenizer";
    CHECK(Tokenizer::plan(v, 64, &tb, &sb, err) == SM_ERR_UNSUPPORTED);
    CHECK(std::string(err.message).find("no-such-pre-tokenizer") != std::string::npos);
    smtest::AlignedBuf mem(1 << 20);
    Bump b = Bump::over(mem.p, mem.n);
    Tokenizer t;
    err.clear();
    CHECK(t.build(v, b, err) == SM_ERR_UNSUPPORTED);
    CHECK(b.used == 0);
    CHECK(t.kind() == TokenizerKind::None);

    v = gv.v;
    v.model = "bert";
    err.clear();
    CHECK(Tokenizer::plan(v, 64, &tb, &sb, err) == SM_ERR_UNSUPPORTED);
    v = gv.v;
    v.merges.clear();
    err.clear();
    CHECK(Tokenizer::plan(v, 64, &tb, &sb, err) == SM_ERR_FORMAT);
    // An arena smaller than planned is a capacity error, not a crash.
    v = gv.v;
    err.clear();
    REQUIRE(Tokenizer::plan(v, 64, &tb, &sb, err) == SM_OK);
    Bump small = Bump::over(mem.p, 1000);
    err.clear();
    CHECK(t.build(v, small, err) == SM_ERR_CAPACITY);
    // A missing pre-tokenizer is llama.cpp's "default".
    v.pre = "";
    err.clear();
    CHECK(Tokenizer::plan(v, 64, &tb, &sb, err) == SM_OK);
}

TEST_CASE("pretokenize: gpt-2 (also mpt, olmo...)", "[text]") {
    CHECK(split("gpt-2", "Hello world") == W{"Hello", " world"});
    CHECK(split("gpt-2", "it's IT'S we're WE'RE I've I'm you'll he'd") ==
          W{"it", "'s", " IT", "'", "S", " we", "'re", " WE", "'", "RE", " I", "'ve", " I", "'m", " you", "'ll", " he", "'d"});
    CHECK(split("gpt-2", "  leading") == W{" ", " leading"});
    CHECK(split("gpt-2", "trailing  ") == W{"trailing", "  "});
    CHECK(split("gpt-2", "a\n\nb") == W{"a", "\n", "\n", "b"});
    CHECK(split("gpt-2", "x   \t y") == W{"x", "   \t", " y"});
    CHECK(split("gpt-2", "123456 7") == W{"123456", " 7"});
    CHECK(split("gpt-2", "日本語 text") == W{"日本語", " text"});
    CHECK(split("gpt-2", "🙂🙂 ok!?") == W{"🙂🙂", " ok", "!?"});
    CHECK(split("gpt-2", "a\xC2\xA0"
                         "b") == W{"a", "\xC2\xA0", "b"}); // NBSP is \s
    CHECK(split("gpt-2", "a\xE1\xA0\x8E"
                         "b") == W{"a", "\xE1\xA0\x8E", "b"}); // U+180E is not (llama.cpp)
    CHECK(split("mpt", "it's") == W{"it", "'s"});
}

TEST_CASE("pretokenize: llama3 (llama-bpe) and qwen2", "[text]") {
    CHECK(split("llama-bpe", "123456 1234567") == W{"123", "456", " ", "123", "456", "7"});
    CHECK(split("llama-bpe", "it's IT'S We'Re") == W{"it", "'s", " IT", "'S", " We", "'Re"});
    CHECK(split("llama-bpe", "a\n\nb") == W{"a", "\n\n", "b"});
    CHECK(split("llama-bpe", "hello!!\n\nworld") == W{"hello", "!!\n\n", "world"});
    CHECK(split("llama-bpe", "  x") == W{" ", " x"});
    CHECK(split("llama-bpe", "\tword \t\tx") == W{"\tword", " \t", "\tx"});
    CHECK(split("llama-bpe", "a  \n  b") == W{"a", "  \n", " ", " b"});
    CHECK(split("llama-bpe", "end   ") == W{"end", "   "});
    CHECK(split("llama-bpe", "'hello") == W{"'hello"});
    CHECK(split("llama-bpe", "中文 🦙x") == W{"中文", " 🦙", "x"});
    CHECK(split("qwen2", "x123 45") == W{"x", "1", "2", "3", " ", "4", "5"});
    CHECK(split("qwen2", "it'S") == W{"it", "'S"});
}

TEST_CASE("pretokenize: starcoder / refact / smollm digits one by one", "[text]") {
    for (const char *pre : {"starcoder", "refact", "smollm"}) {
        INFO(pre);
        CHECK(split(pre, "x12 34") == W{"x", "1", "2", " ", "3", "4"});
        CHECK(split(pre, "it's 5th") == W{"it", "'s", " ", "5", "th"});
    }
}

TEST_CASE("pretokenize: falcon, default, deepseek", "[text]") {
    CHECK(split("falcon", "a+b=c") == W{"a", "+", "b", "=", "c"});
    CHECK(split("falcon", "x 12345") == W{"x", " ", "123", "45"});
    CHECK(split("falcon", "`code`") == W{"`", "code", "`"});
    CHECK(split("default", "x 12345 ~y") == W{"x", " ", "123", "45", " ", "~", "y"});
    CHECK(split("deepseek-coder", "hello 123") == W{"hello", " ", "1", "2", "3"});
    CHECK(split("deepseek-coder", "a\r\nb") == W{"a", "\r", "\n", "b"});
    CHECK(split("deepseek-llm", "Hello, 世界 123\n") == W{"Hello", ",", " ", "世界", " ", "123", "\n"});
    CHECK(split("deepseek-llm", "tail   ") == W{"tail", "   "});
    // U+1F7D and U+2126 are in DeepSeek's letter class (the word " \u1F7D\u2126x"), but
    // ":-~" in the punctuation class takes the "x", and the CJK class's range
    // U+0800-U+4E00 then takes the two letters away from their space - as in llama.cpp.
    CHECK(split("deepseek-llm", " \xE1\xBD\xBD\xE2\x84\xA6x") == W{" ", "\xE1\xBD\xBD\xE2\x84\xA6", "x"});
    CHECK(split("deepseek-llm", " ab") == W{" ab"});
    // U+0561 (Armenian small letter) is in none of the classes.
    CHECK(split("deepseek-llm", "\xD5\xA1") == W{"\xD5\xA1"});
}
