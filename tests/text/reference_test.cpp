// Differential tests against llama.cpp itself: the llama-tokenize build in
// ../shared/reference/llama.cpp tokenizes the same strings and must give the same ids
// (absent: "skipped: ..." is printed).
// Hidden (run with "[text-reference]"): it needs that binary and takes a while.
//
// Many strings are checked per llama-tokenize run: they are joined with a control token
// between them and tokenized with special tokens parsed. llama.cpp tokenizes the text
// between special tokens piece by piece, each piece as if it were a prompt of its own
// (SPM adds its leading space after a special token too), so the ids between separators
// are exactly the ids of each string alone.
//
// The BPE pre-tokenizers are checked on the GPT-2 vocabulary relabelled with each
// tokenizer.ggml.pre value (a GGUF written to the temp folder): the merges stay GPT-2's,
// but the words they apply to come from each pre-tokenizer's expressions.
#include <catch2/catch.hpp>

#include "format/gguf_write.h"
#include "text_fixture.h"

#include <cstdio>
#include <cstring>
#include <random>
#include <sys/stat.h>

using namespace sm;
using namespace sm::text;

namespace {

std::string ref_dir() { return smtest::reference_path("llama.cpp"); }

bool have_reference() {
    struct stat st;
    if (stat((ref_dir() + "/llama-tokenize").c_str(), &st) == 0) return true;
    smtest::skipped("no " + ref_dir() + "/llama-tokenize");
    return false;
}

// ids llama-tokenize prints for text; false if it fails (e.g. unknown pre-tokenizer).
bool reference_ids(const std::string &model, const std::string &text, bool bos, bool special, std::vector<int32_t> &ids) {
    static int serial = 0;
    std::string in = smtest::temp_path("ref_input_" + std::to_string(serial++) + ".txt");
    smtest::write_file(in, std::vector<uint8_t>(text.begin(), text.end()));
    std::string cmd = "LD_LIBRARY_PATH='" + ref_dir() + "' '" + ref_dir() + "/llama-tokenize' -m '" + model + "' -f '" + in +
                      "' --ids --log-disable --no-escape" + (bos ? "" : " --no-bos") + (special ? "" : " --no-parse-special") +
                      " 2>/dev/null";
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) return false;
    std::string out;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int rc = pclose(p);
    remove(in.c_str());
    size_t open = out.find('['), close = out.rfind(']');
    if (rc != 0 || open == std::string::npos || close == std::string::npos) return false;
    ids.clear();
    for (size_t i = open + 1; i < close;) {
        while (i < close && (out[i] == ' ' || out[i] == ',')) i++;
        if (i >= close) break;
        ids.push_back(static_cast<int32_t>(strtol(out.c_str() + i, nullptr, 10)));
        while (i < close && out[i] != ',') i++;
    }
    return true;
}

// src's metadata with tokenizer.ggml.pre replaced, written to dst.
bool write_with_pre(const std::string &src, const std::string &pre, const std::string &dst) {
    smtest::GgufVocab g(src);
    if (!g.ok) return false;
    gguf::Writer w;
    for (const gguf::KeyValue &kv : g.file.kv) {
        const gguf::Value &v = kv.value;
        if (kv.key == "tokenizer.ggml.pre") {
            w.set_string(kv.key, pre);
            continue;
        }
        switch (v.type) {
        case gguf::kString: w.set_string(kv.key, v.str); break;
        case gguf::kU32: {
            uint32_t x;
            memcpy(&x, v.raw, 4);
            w.set_u32(kv.key, x);
            break;
        }
        case gguf::kI32: {
            int32_t x;
            memcpy(&x, v.raw, 4);
            w.set_i32(kv.key, x);
            break;
        }
        case gguf::kF32: {
            float x;
            memcpy(&x, v.raw, 4);
            w.set_f32(kv.key, x);
            break;
        }
        case gguf::kBool: w.set_bool(kv.key, v.raw[0] != 0); break;
        case gguf::kArray:
            if (v.elem_type == gguf::kString) {
                w.set_strings(kv.key, v.strings);
            } else if (v.elem_type == gguf::kI32) {
                std::vector<int32_t> a(v.count);
                memcpy(a.data(), v.raw, v.count * 4);
                w.set_i32s(kv.key, a);
            } else if (v.elem_type == gguf::kF32) {
                std::vector<float> a(v.count);
                memcpy(a.data(), v.raw, v.count * 4);
                w.set_f32s(kv.key, a);
            } else {
                return false;
            }
            break;
        default: return false;
        }
    }
    Error err;
    return w.write(dst.c_str(), err) == SM_OK;
}

// Strings that stress the pre-tokenizers: contractions in both cases, digit runs, runs
// of spaces/tabs/newlines before words, CJK, emoji (outside the BMP), marks, exotic
// whitespace, and invalid UTF-8.
std::vector<std::string> tricky_strings() {
    return {
        "Hello world",
        " Hello world",
        "Hello World!",
        "  leading",
        "trailing  ",
        "   ",
        "\t",
        "\n",
        "\n\n\n",
        "\r\n",
        "a\r\nb",
        "a \n b",
        "a  \n\n  b",
        "\t\tword",
        " \tword",
        "x\t \ny",
        "it's",
        "IT'S",
        "we're we'RE We'Re",
        "I've I'VE",
        "I'm I'M",
        "you'll YOU'LL",
        "he'd HE'D",
        "don't DON'T",
        "'s'",
        "''s",
        "o'clock",
        "rock'n'roll",
        "'",
        "'hello",
        " 'tis",
        "1",
        "12",
        "123",
        "1234",
        "12345",
        "123456",
        "1234567",
        "3.14159",
        "1,000,000",
        "x1y22z333",
        " 42 ",
        "٣٤٥",
        "１２３",
        "²³",
        "Ⅻ",
        "7½",
        "日本語のテキスト",
        "中文文本测试",
        "한국어 텍스트",
        "Привет, мир!",
        "Γειά σου Κόσμε",
        "مرحبا بالعالم",
        "नमस्ते दुनिया",
        "สวัสดีชาวโลก",
        "e\xCC\x81t\xC3\xA9",
        "Ｆｕｌｌｗｉｄｔｈ",
        "🙂",
        "🦙🦙",
        "👍🏽",
        "👨‍👩‍👧",
        " 🙂 ok",
        "a🙂b",
        "𝐀𝐁𝐂",
        "𐐀𐐁",
        "𝟙𝟚𝟛",
        "non\xC2\xA0"
        "breaking",
        "ideo\xE3\x80\x80space",
        "line\xE2\x80\xA8sep",
        "nel\xC2\x85x",
        "em\xE2\x80\x83space",
        "zero\xE2\x80\x8Bwidth",
        "mongolian\xE1\xA0\x8Evs",
        "\xE2\x80\x83\xE2\x80\x83word",
        "private\xEE\x80\x80use",
        "bad\xFF"
        "byte",
        "\xC3",
        "\xE2\x82",
        "x\xE2\x82y",
        "\xC0\x80",
        "\xED\xA0\x80"
        "s",
        "\x80\x81\x82",
        "\xF0\x9F",
        "<html><body>Hi</body></html>",
        "a+b=c; d<=e >= f",
        "$100 ~tilde ^caret |pipe `tick`",
        "snake_case and kebab-case",
        "...!!!???",
        " ... ",
        "C++ && Rust || Go",
        "email@example.com",
        "https://example.com/path?q=1&r=2",
        "    indented code",
        "\tdef f(x):\n\t\treturn x*2\n",
        " \xE1\xBD\xBD\xE2\x84\xA6x",
        "\xE1\xBE\xBE\xE1\xBF\x93\xE1\xBF\x9B\xE2\x84\xAA",
        "\xD5\xA1\xD5\xA2 \xE1\x8F\xB8",
        "Mixed123Text456",
        "ALLCAPS lowercase MiXeD",
        "ÀÉÎÕÜ àéîõü",
        "ﬁ ﬂ",
        "ǅ ǈ",
    };
}

std::vector<std::string> random_strings(uint32_t seed, int count) {
    static const char *const parts[] = {
        "the",
        "The",
        "quick",
        "FOX",
        "jumps",
        "'s",
        "'S",
        "'t",
        "'re",
        "'VE",
        "'m",
        "'ll",
        "'D",
        "'",
        "0",
        "7",
        "42",
        "1234",
        "99999",
        " ",
        "  ",
        "   ",
        "\t",
        "\n",
        "\r\n",
        "\n\n",
        ".",
        ",",
        "!?",
        "...",
        "--",
        "(",
        ")",
        "\"",
        "#",
        "$",
        "%",
        "&",
        "*",
        "+",
        "<",
        ">",
        "=",
        "@",
        "[",
        "]",
        "^",
        "_",
        "`",
        "{",
        "|",
        "}",
        "~",
        "日本",
        "語",
        "中文",
        "한국",
        "Привет",
        "Ελλάδα",
        "عربي",
        "हिन्दी",
        "ไทย",
        "é",
        "e\xCC\x81",
        "ß",
        "ǅ",
        "🙂",
        "🦙",
        "👍🏽",
        "𝐀",
        "𐐀",
        "１",
        "²",
        "\xC2\xA0",
        "\xE3\x80\x80",
        "\xE2\x80\xA8",
        "\xE2\x80\x8B",
        "\xC2\x85",
        "\xE1\xA0\x8E",
        "\xEE\x80\x80",
    };
    const size_t np = sizeof parts / sizeof parts[0];
    std::mt19937 rng(seed);
    std::vector<std::string> out;
    for (int i = 0; i < count; i++) {
        std::string s;
        int len = 1 + static_cast<int>(rng() % 16);
        for (int k = 0; k < len; k++) s += parts[rng() % np];
        out.push_back(s);
    }
    return out;
}

// Checks every string against llama.cpp in one run: strings joined by sep_text, whose
// id is sep_id. Returns false when llama-tokenize cannot load the model.
bool check_batch(const std::string &model, smtest::BuiltTokenizer &bt, const std::vector<std::string> &strings,
                 const std::string &sep_text, int32_t sep_id) {
    std::string joined;
    for (size_t i = 0; i < strings.size(); i++) joined += (i ? sep_text : "") + strings[i];
    std::vector<int32_t> ref;
    if (!reference_ids(model, joined, false, true, ref)) return false;
    std::vector<std::vector<int32_t>> pieces(1);
    for (int32_t id : ref) {
        if (id == sep_id) pieces.emplace_back();
        else pieces.back().push_back(id);
    }
    REQUIRE(pieces.size() == strings.size());
    for (size_t i = 0; i < strings.size(); i++) {
        INFO("string " << i << ": '" << strings[i] << "'");
        CHECK(bt.encode(strings[i], 0) == pieces[i]);
    }
    // The joined text itself, parsed the same way.
    CHECK(bt.encode(joined, kParseSpecial) == ref);
    return true;
}

} // namespace

TEST_CASE("reference: SPM matches llama-tokenize", "[.][text-reference]") {
    if (!have_reference()) return;
    const std::string model = smtest::fixture("ggml-vocab-llama-spm.gguf");
    smtest::GgufVocab gv(model);
    REQUIRE(gv.ok);
    smtest::BuiltTokenizer bt(gv.v, 1 << 20);
    REQUIRE(bt.status == SM_OK);
    std::vector<std::string> strings = tricky_strings();
    for (const std::string &s : random_strings(1, 300)) strings.push_back(s);
    REQUIRE(check_batch(model, bt, strings, "</s>", 2));

    // BOS and special tokens, one run each.
    const char *specials[] = {"<s>Hello", "a<s>b",   "a <s> b", "</s>",           " </s> ",
                              "<unk>",    "x<unk>y", "<s><s>",  "Hello</s>world", "\n<s>\n"};
    for (const char *s : specials) {
        for (int flags = 0; flags < 4; flags++) {
            std::vector<int32_t> ref;
            REQUIRE(reference_ids(model, s, flags & kAddBos, flags & kParseSpecial, ref));
            INFO("'" << s << "' flags " << flags);
            CHECK(bt.encode(s, static_cast<uint32_t>(flags)) == ref);
        }
    }
}

TEST_CASE("reference: BPE pre-tokenizers match llama-tokenize", "[.][text-reference]") {
    if (!have_reference()) return;
    const std::string src = smtest::fixture("ggml-vocab-gpt-2.gguf");
    std::vector<std::string> strings = tricky_strings();
    for (const std::string &s : random_strings(2, 300)) strings.push_back(s);
    const char *pres[] = {"gpt-2",          "default",   "mpt",    "llama-bpe", "qwen2",
                          "smollm",         "starcoder", "refact", "falcon",    "deepseek-llm",
                          "deepseek-coder", "command-r", "dbrx",   "stablelm2", "olmo"};
    for (const char *pre : pres) {
        std::string model = smtest::temp_path(std::string("vocab-") + pre + ".gguf");
        REQUIRE(write_with_pre(src, pre, model));
        smtest::GgufVocab gv(model);
        REQUIRE(gv.ok);
        smtest::BuiltTokenizer bt(gv.v, 1 << 20);
        INFO("pre-tokenizer " << pre << ": " << bt.err.message);
        REQUIRE(bt.status == SM_OK);
        if (!check_batch(model, bt, strings, "<|endoftext|>", 50256)) WARN("llama-tokenize rejects pre " << pre);
        remove(model.c_str());
    }
}
