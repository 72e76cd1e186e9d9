// Utf8Stream: whole characters only, byte by byte, across byte tokens, with U+FFFD for
// invalid input, and the same output however the stream is cut.
#include <catch2/catch.hpp>

#include "text_fixture.h"

#include <random>

using namespace sm;
using namespace sm::text;

namespace {

const std::string kFFFD = "\xEF\xBF\xBD";

std::string push_all(Utf8Stream &s, const std::string &bytes) {
    std::string out(3 * bytes.size() + 9, '\0');
    out.resize(s.push(bytes.data(), bytes.size(), &out[0], out.size()));
    return out;
}

std::string flush(Utf8Stream &s) {
    char buf[8];
    return std::string(buf, s.flush(buf, sizeof buf));
}

std::string decode_whole(const std::string &bytes) {
    Utf8Stream s;
    std::string out = push_all(s, bytes);
    return out + flush(s);
}

bool valid_utf8(const std::string &s) {
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        int len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        if (!len || i + static_cast<size_t>(len) > s.size()) return false;
        uint32_t cp = len == 1 ? c : c & (0x7F >> len);
        for (int k = 1; k < len; k++) {
            unsigned char x = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
            if ((x & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (x & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += static_cast<size_t>(len);
    }
    return true;
}

} // namespace

TEST_CASE("utf8 stream: multi-byte characters fed one byte at a time", "[text]") {
    for (const std::string ch : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\xA6\x99", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD"}) {
        Utf8Stream s;
        std::string got;
        for (size_t i = 0; i < ch.size(); i++) {
            std::string part = push_all(s, ch.substr(i, 1));
            // Nothing comes out until a character is complete.
            bool completes = i + 1 == ch.size() || (ch.size() == 8 && i == 3);
            CHECK(part.empty() != completes);
            got += part;
        }
        CHECK(got == ch);
        CHECK(s.pending() == 0);
        CHECK(flush(s).empty());
    }
    Utf8Stream s;
    CHECK(push_all(s, "a\xE2\x82") == "a");
    CHECK(s.pending() == 2);
    CHECK(s.pending_bytes()[0] == 0xE2);
    Utf8Stream t; // a session saved mid-character and loaded again
    t.restore(s.pending_bytes(), s.pending());
    CHECK(push_all(t, "\xAC!") == "\xE2\x82\xAC!");
}

TEST_CASE("utf8 stream: invalid bytes become U+FFFD (maximal subparts)", "[text]") {
    CHECK(decode_whole("\xFF") == kFFFD);
    CHECK(decode_whole("a\x80"
                       "b") == "a" + kFFFD + "b");
    CHECK(decode_whole("\xC3(") == kFFFD + "(");
    CHECK(decode_whole("\xE2\x82x") == kFFFD + "x");  // one U+FFFD for the cut sequence
    CHECK(decode_whole("\xC0\x80") == kFFFD + kFFFD); // overlong
    CHECK(decode_whole("\xE0\x80\xAF") == kFFFD + kFFFD + kFFFD);
    CHECK(decode_whole("\xED\xA0\x80") == kFFFD + kFFFD + kFFFD);             // surrogate
    CHECK(decode_whole("\xF4\x90\x80\x80") == kFFFD + kFFFD + kFFFD + kFFFD); // > U+10FFFF
    CHECK(decode_whole("\xF0\x9F") == kFFFD);                                 // cut at the end: flush gives one U+FFFD
    CHECK(decode_whole("\xEF\xBF\xBD") == kFFFD);                             // a real U+FFFD passes
}

TEST_CASE("utf8 stream: byte tokens that split a character", "[text]") {
    smtest::GgufVocab gv(smtest::fixture("ggml-vocab-llama-spm.gguf"));
    REQUIRE(gv.ok);
    smtest::BuiltTokenizer bt(gv.v, 256);
    REQUIRE(bt.status == SM_OK);
    const std::string text = "\xF0\x9F\xA6\x99 and \xE1\xBD\xBD";
    std::vector<int32_t> ids = bt.encode(text, 0);
    Utf8Stream s;
    std::string got;
    int byte_tokens = 0;
    for (int32_t id : ids) {
        char piece[64];
        size_t n = bt.tok.token_bytes(id, piece, sizeof piece);
        if (bt.tok.piece(id).substr(0, 3) == "<0x") byte_tokens++;
        std::string part(3 * n + 9, '\0');
        part.resize(s.push(piece, n, &part[0], part.size()));
        CHECK(valid_utf8(part));
        got += part;
    }
    got += flush(s);
    CHECK(byte_tokens >= 4);
    CHECK(got == " " + text);
}

TEST_CASE("utf8 stream: any cut of any bytes gives the same valid text", "[text]") {
    std::mt19937 rng(8);
    const char *const parts[] = {"a",           "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\xA6\x99", "\xFF",     "\x80",
                                 "\xC3",        "\xE2\x82", "\xF0\x9F",     "\xED\xA0\x80",     "\xC0\x80", "\xF4\x90\x80\x80",
                                 "\xEF\xBF\xBD"};
    for (int iter = 0; iter < 2000; iter++) {
        std::string bytes;
        int n = static_cast<int>(rng() % 20);
        for (int i = 0; i < n; i++) bytes += rng() % 4 ? parts[rng() % 13] : std::string(1, static_cast<char>(rng()));
        std::string whole = decode_whole(bytes);
        REQUIRE(valid_utf8(whole));
        Utf8Stream s;
        std::string cut;
        for (size_t i = 0; i < bytes.size();) {
            size_t k = 1 + rng() % 5;
            if (k > bytes.size() - i) k = bytes.size() - i;
            std::string out(3 * k + 9, '\0');
            out.resize(s.push(bytes.data() + i, k, &out[0], out.size()));
            REQUIRE(valid_utf8(out));
            cut += out;
            i += k;
        }
        cut += flush(s);
        REQUIRE(cut == whole);
    }
}
