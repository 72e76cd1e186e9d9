// SentencePiece BPE against llama.cpp's published vectors and across the three sources
// of the stories260K vocabulary (GGUF, tokenizer.bin).
#include <catch2/catch.hpp>

#include "text_fixture.h"

#include <random>

using namespace sm;
using namespace sm::text;

namespace {

std::string spm_gguf() { return smtest::fixture("ggml-vocab-llama-spm.gguf"); }

std::string ids_str(const std::vector<int32_t> &ids) {
    std::string s;
    for (int32_t id : ids) s += std::to_string(id) + " ";
    return s;
}

} // namespace

TEST_CASE("spm: llama.cpp's ggml-vocab-llama-spm vectors, encode and decode", "[text]") {
    smtest::GgufVocab gv(spm_gguf());
    REQUIRE(gv.ok);
    smtest::BuiltTokenizer bt(gv.v, 4096);
    REQUIRE(bt.status == SM_OK);
    CHECK(bt.arena_used == bt.table_bytes);
    CHECK(bt.tok.kind() == TokenizerKind::Spm);
    CHECK(bt.tok.n_vocab() == 32000);
    CHECK(bt.tok.bos() == 1);
    CHECK(bt.tok.eos() == 2);
    CHECK(bt.tok.add_bos());
    CHECK(bt.tok.strips_leading_space());

    smtest::VocabVectors vec = smtest::read_vectors(spm_gguf());
    REQUIRE(vec.inputs.size() == 46);
    REQUIRE(vec.expected.size() == vec.inputs.size());
    for (size_t i = 0; i < vec.inputs.size(); i++) {
        INFO("case " << i << ": '" << vec.inputs[i] << "'");
        std::vector<int32_t> ids = bt.encode(vec.inputs[i], 0);
        CHECK(ids_str(ids) == ids_str(vec.expected[i]));
        // Decoding gives the input back, after the space SentencePiece put in front.
        std::string back = bt.decode(vec.expected[i]);
        if (!vec.inputs[i].empty()) {
            REQUIRE(!back.empty());
            CHECK(back[0] == ' ');
            CHECK(back.substr(1) == vec.inputs[i]);
        }
    }
}

TEST_CASE("spm: BOS, special tokens and the spaces around them", "[text]") {
    smtest::GgufVocab gv(spm_gguf());
    REQUIRE(gv.ok);
    smtest::BuiltTokenizer bt(gv.v, 4096);
    REQUIRE(bt.status == SM_OK);
    // Reference ids from llama.cpp's llama-tokenize on the same vocabulary.
    CHECK(bt.encode("Hello world", kAddBos) == std::vector<int32_t>{1, 15043, 3186});
    CHECK(bt.encode("", kAddBos) == std::vector<int32_t>{1});
    CHECK(bt.encode("", 0).empty());
    // Without kParseSpecial, "<s>" is text; with it, the control token (and the text
    // after a special token gets SentencePiece's leading space again).
    std::vector<int32_t> plain = bt.encode("a<s>b", 0), special = bt.encode("a<s>b", kParseSpecial);
    CHECK(std::find(plain.begin(), plain.end(), 1) == plain.end());
    CHECK(special == std::vector<int32_t>{263, 1, 289});
    CHECK(bt.encode("<s>", kParseSpecial) == std::vector<int32_t>{1});
    CHECK(bt.decode({1, 263, 2}) == " a");
    CHECK(bt.decode({1, 263, 2}, true) == "<s> a</s>");
    CHECK(bt.tok.is_control(1));
    CHECK(bt.tok.is_end_of_generation(2));
    CHECK_FALSE(bt.tok.is_end_of_generation(263));
    // Byte fallback: a character without a token comes out as its UTF-8 bytes.
    std::vector<int32_t> ids = bt.encode("\xF0\x9F\xA6\x99", 0); // U+1F999
    CHECK(bt.decode(ids) == " \xF0\x9F\xA6\x99");
}

TEST_CASE("spm: stories260K GGUF and tok512.bin tokenize alike", "[text]") {
    smtest::GgufVocab gv(smtest::fixture("stories260K.gguf"));
    REQUIRE(gv.ok);
    std::vector<uint8_t> bin = smtest::read_fixture(smtest::data_path("tok512.bin"));
    REQUIRE(!bin.empty());
    text::VocabSource lv;
    std::vector<char> storage;
    Error err;
    REQUIRE(vocab_from_llama2c(bin.data(), bin.size(), 512, lv, storage, err) == SM_OK);
    REQUIRE(gv.v.tokens.size() == 512);
    for (size_t i = 0; i < 512; i++) {
        INFO("token " << i);
        CHECK(gv.v.tokens[i] == lv.tokens[i]);
    }
    smtest::BuiltTokenizer a(gv.v, 1024), b(lv, 1024);
    REQUIRE(a.status == SM_OK);
    REQUIRE(b.status == SM_OK);
    CHECK(a.tok.bos() == b.tok.bos());
    CHECK(a.tok.eos() == b.tok.eos());

    std::mt19937 rng(260);
    const char *words[] = {"Once", "upon", "a",     "time",  "there", "was", "little", "girl", "named", "Lily", ".",     ",",
                           "!",    "She",  "liked", "to",    "play",  "in",  "the",    "park", "\n",    "  ",   "\"",    "'s",
                           "Tom",  "ball", "big",   "happy", "1",     "23",  "é",      "日本", "🙂",  "\t",   "don't", "?"};
    const size_t nw = sizeof words / sizeof words[0];
    for (int i = 0; i < 400; i++) {
        std::string s;
        int len = static_cast<int>(rng() % 24);
        for (int k = 0; k < len; k++) {
            if (k && rng() % 3) s += ' ';
            s += words[rng() % nw];
        }
        INFO("'" << s << "'");
        std::vector<int32_t> x = a.encode(s, kAddBos), y = b.encode(s, kAddBos);
        REQUIRE(x == y);
        REQUIRE(!x.empty());
        CHECK(x[0] == 1);
        std::vector<int32_t> body(x.begin() + 1, x.end());
        CHECK(a.decode(body) == (s.empty() ? "" : " " + s));
    }
}

TEST_CASE("spm: a vocabulary with tokens spanning a space merges across it", "[text]") {
    // "a▁" and "a▁b" make "▁" join the "a" before it, so the word-by-word shortcut
    // must not cut there (and still gives llama.cpp's result).
    VocabSource v;
    v.model = "llama";
    v.tokens = {"<unk>",
                "<s>",
                "</s>",
                "\xE2\x96\x81",
                "a",
                "b",
                "a\xE2\x96\x81",
                "a\xE2\x96\x81"
                "b",
                "\xE2\x96\x81"
                "c"};
    v.scores = {0, 0, 0, -1, -2, -3, -4, -5, -6};
    v.types = {kTokUnknown, kTokControl, kTokControl, kTokNormal, kTokNormal, kTokNormal, kTokNormal, kTokNormal, kTokNormal};
    smtest::BuiltTokenizer bt(v, 64);
    REQUIRE(bt.status == SM_OK);
    CHECK(bt.encode("a b", 0) == std::vector<int32_t>{3, 7});
    CHECK(bt.encode("a b c", 0) == std::vector<int32_t>{3, 7, 8});
    CHECK(bt.decode({3, 7, 8}) == " a b c");
    // No byte tokens in this vocabulary: an unknown character becomes <unk> per byte.
    CHECK(bt.encode("z", 0) == std::vector<int32_t>{3, 0});
}
