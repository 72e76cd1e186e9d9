// Random bytes in, random ids out: encode() never fails or crashes on any input, the
// ids decode back to the text (as each tokenizer reads invalid UTF-8), and decoding
// random ids is safe.
#include <catch2/catch.hpp>

#include "text/unicode.h"
#include "text_fixture.h"

#include <random>

using namespace sm;
using namespace sm::text;

namespace {

std::string random_text(std::mt19937 &rng) {
    static const char *const parts[] = {"a",
                                        "Hello",
                                        " world",
                                        "'s",
                                        "123",
                                        " ",
                                        "\n",
                                        "\t",
                                        "é",
                                        "日本",
                                        "🦙",
                                        "<s>",
                                        "</s>",
                                        "<|endoftext|>",
                                        "\xFF",
                                        "\xC3",
                                        "\xE2\x82",
                                        "\xED\xA0\x80",
                                        "\xF4\x90\x80\x80",
                                        "\xC0\x80",
                                        "\xE2\x96\x81"};
    std::string s;
    int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; i++) {
        if (rng() % 3 == 0) s += static_cast<char>(rng());
        else s += parts[rng() % (sizeof parts / sizeof parts[0])];
    }
    return s;
}

// The text as byte-level BPE reads it (U+FFFD per bad byte...), see tokenizer.h.
std::string bpe_reading(const std::string &s) {
    std::string out;
    const uint8_t *p = reinterpret_cast<const uint8_t *>(s.data());
    for (size_t i = 0; i < s.size();) {
        size_t adv;
        char buf[4];
        out.append(buf, encode_utf8(decode_lenient(p + i, s.size() - i, &adv), buf));
        i += adv;
    }
    return out;
}

std::string replace_all(std::string s, const std::string &from, const std::string &to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
    return s;
}

} // namespace

TEST_CASE("fuzz: random bytes through both tokenizers", "[text]") {
    std::mt19937 rng(2024);
    for (const char *file : {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf"}) {
        smtest::GgufVocab gv(smtest::fixture(file));
        REQUIRE(gv.ok);
        for (const char *pre : {"", "llama-bpe", "deepseek-llm", "falcon"}) {
            if (*pre && gv.v.model != "gpt2") continue;
            VocabSource v = gv.v;
            if (*pre) v.pre = pre;
            smtest::BuiltTokenizer bt(v, 2048);
            REQUIRE(bt.status == SM_OK);
            const bool spm = bt.tok.kind() == TokenizerKind::Spm;
            for (int iter = 0; iter < 300; iter++) {
                std::string text = random_text(rng);
                uint32_t flags = rng() % 4;
                sm_status st;
                std::vector<int32_t> ids = bt.encode(text, flags, &st);
                INFO(file << " " << pre << " flags " << flags << " text of " << text.size() << " bytes");
                REQUIRE(st == SM_OK);
                for (int32_t id : ids) REQUIRE((id >= 0 && id < bt.tok.n_vocab()));
                if ((flags & kAddBos) && bt.tok.bos() >= 0) {
                    REQUIRE(!ids.empty());
                    CHECK(ids[0] == bt.tok.bos());
                    ids.erase(ids.begin());
                }
                if (spm && !(flags & kParseSpecial)) {
                    // Bytes come back as they were, except spaces: SentencePiece writes them
                    // as U+2581, which a broken lead byte can take into its byte tokens
                    // (as in llama.cpp), and U+2581 in the text reads as a space.
                    const std::string sp = "\xE2\x96\x81";
                    std::string want = text.empty() ? "" : " " + text;
                    CHECK(replace_all(bt.decode(ids), sp, " ") == replace_all(want, sp, " "));
                } else if (!spm) {
                    CHECK(bt.decode(ids, true) == bpe_reading(text));
                }
            }
            // Random ids, valid or not, decode safely.
            char buf[64];
            for (int iter = 0; iter < 2000; iter++) {
                int32_t id = static_cast<int32_t>(rng() % (bt.tok.n_vocab() + 200)) - 100;
                size_t n = bt.tok.token_bytes(id, buf, sizeof buf, rng() % 2);
                CHECK(n <= 4096);
                Utf8Stream s;
                char out[3 * sizeof buf + 9];
                CHECK(s.push(buf, n < sizeof buf ? n : sizeof buf, out, sizeof out) <= sizeof out);
            }
        }
    }
}
