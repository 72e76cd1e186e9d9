// Tokenizer::first_byte(): exactly token_bytes()'s first byte (past blanks when asked),
// for every token of each test vocabulary. A session's choice constraint rejects tokens
// on it before decoding them, so any difference would change what a choice allows.
#include <catch2/catch.hpp>

#include "text_fixture.h"

using namespace sm;
using namespace sm::text;

namespace {

// The reference: the whole token decoded, then its leading blanks skipped.
int first_of_decoded(const Tokenizer &t, int32_t id, bool skip_space) {
    char buf[1024];
    const size_t n = t.token_bytes(id, buf, sizeof buf);
    REQUIRE(n <= sizeof buf);
    size_t i = 0;
    if (skip_space)
        while (i < n && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t')) i++;
    return i < n ? static_cast<uint8_t>(buf[i]) : -1;
}

void check_all(const VocabSource &v, const char *what) {
    INFO(what);
    smtest::BuiltTokenizer bt(v, 16);
    REQUIRE(bt.status == SM_OK);
    int differ = 0, blank_led = 0, empty = 0;
    for (int32_t id = 0; id < bt.tok.n_vocab(); id++)
        for (bool skip : {false, true}) {
            const int want = first_of_decoded(bt.tok, id, skip);
            if (bt.tok.first_byte(id, skip) != want) {
                if (differ++ < 5)
                    FAIL_CHECK("token " << id << " skip " << skip << ": " << bt.tok.first_byte(id, skip) << " != " << want);
            }
            if (skip && want >= 0 && first_of_decoded(bt.tok, id, false) != want) blank_led++;
            if (want < 0) empty++;
        }
    CHECK(differ == 0);
    CHECK(blank_led > 0); // the vocabulary has tokens that start with a blank...
    CHECK(empty > 0);     // ...and some that render as nothing (control tokens)
    CHECK(bt.tok.first_byte(-1, false) == -1);
    CHECK(bt.tok.first_byte(bt.tok.n_vocab(), true) == -1);
}

} // namespace

TEST_CASE("first_byte: token_bytes()'s first byte for every token", "[text]") {
    for (const char *f : {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf", "stories260K.gguf"}) {
        smtest::GgufVocab gv(smtest::fixture(f));
        REQUIRE(gv.ok);
        check_all(gv.v, f);
    }
    std::vector<uint8_t> bin = smtest::read_fixture(smtest::data_path("tok512.bin"));
    VocabSource lv;
    std::vector<char> storage;
    Error err;
    REQUIRE(vocab_from_llama2c(bin.data(), bin.size(), 512, lv, storage, err) == SM_OK);
    check_all(lv, "tok512.bin");
}
