#include "text/pretokenize.h"

#include <cstring>

namespace sm::text {

namespace {

// The expressions below are llama.cpp's (src/llama-vocab.cpp, llm_tokenizer_bpe), kept
// verbatim so they can be compared line by line. Those written with "(?i:...)" upstream
// are the adapted "[sS]" forms llama.cpp itself uses. The non-ASCII characters of the
// DeepSeek classes are written as \x{..} escapes: several of them (U+1F7D, U+1FBE,
// U+1FD3, U+1FDB, U+2126, U+212A) change under Unicode normalisation, which editors and
// copy-paste apply silently, and then the class means something else.

const char *const kGpt2[] = {
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
};

const char *const kDefault[] = {
    "[\\p{P}\\$\\+<=>\\^~\\|]+",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    "\\p{N}+",
    "[0-9][0-9][0-9]",
};

const char *const kLlama3[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};

const char *const kQwen2[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};

const char *const kStarcoder[] = {
    "\\p{N}",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
};

const char *const kFalcon[] = {
    "[\\p{P}\\$\\+<=>\\^~\\|`]+",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    "[0-9][0-9][0-9]",
};

const char *const kDeepseekLlm[] = {
    "[\r\n]",
    "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-"
    "\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}"
    "-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{"
    "1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{"
    "1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{"
    "1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{"
    "1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{"
    "212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{"
    "2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{"
    "A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{"
    "FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-"
    "\\x{118DF}\\x{1E900}-\\x{1E943}]+",
    "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
    "\\s+$",
    "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
    "\\p{N}+",
};

const char *const kDeepseekCoder[] = {
    "[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+", "\\p{N}",
};

#define SM_PRE(name, list, ignore, bos) \
    { name, list, static_cast<int>(sizeof(list) / sizeof(list[0])), ignore, bos }
const PreSpec kSpecDefault = SM_PRE("default", kDefault, false, 0);
const PreSpec kSpecGpt2 = SM_PRE("gpt-2", kGpt2, false, 0);
const PreSpec kSpecLlama3 = SM_PRE("llama3", kLlama3, true, 1);
const PreSpec kSpecLlama3Regex = SM_PRE("dbrx", kLlama3, false, 0); // same split, no llama3 flags
const PreSpec kSpecQwen2 = SM_PRE("qwen2", kQwen2, false, 0);
const PreSpec kSpecStarcoder = SM_PRE("starcoder", kStarcoder, false, 0);
const PreSpec kSpecFalcon = SM_PRE("falcon", kFalcon, false, 0);
const PreSpec kSpecDeepseekLlm = SM_PRE("deepseek-llm", kDeepseekLlm, false, 0);
const PreSpec kSpecDeepseekCoder = SM_PRE("deepseek-coder", kDeepseekCoder, false, 0);
#undef SM_PRE

// tokenizer.ggml.pre values, grouped as llama_vocab::impl::load() groups them.
struct PreName {
    const char *name;
    const PreSpec *spec;
};
const PreName kNames[] = {
    {"default", &kSpecDefault},
    {"llama3", &kSpecLlama3},
    {"llama-v3", &kSpecLlama3},
    {"llama-bpe", &kSpecLlama3},
    {"falcon3", &kSpecLlama3},
    {"pixtral", &kSpecLlama3},
    {"falcon-h1", &kSpecLlama3},
    {"midm-2.0", &kSpecLlama3},
    {"lfm2", &kSpecLlama3},
    {"dbrx", &kSpecLlama3Regex},
    {"smaug-bpe", &kSpecLlama3Regex},
    {"deepseek-llm", &kSpecDeepseekLlm},
    {"deepseek-coder", &kSpecDeepseekCoder},
    {"falcon", &kSpecFalcon},
    {"mpt", &kSpecGpt2},
    {"gpt-2", &kSpecGpt2},
    {"phi-2", &kSpecGpt2},
    {"jina-es", &kSpecGpt2},
    {"jina-de", &kSpecGpt2},
    {"jina-v2-es", &kSpecGpt2},
    {"jina-v2-de", &kSpecGpt2},
    {"olmo", &kSpecGpt2},
    {"jais", &kSpecGpt2},
    {"gigachat", &kSpecGpt2},
    {"exaone4", &kSpecGpt2},
    {"a.x-4.0", &kSpecGpt2},
    {"mellum", &kSpecGpt2},
    {"starcoder", &kSpecStarcoder},
    {"refact", &kSpecStarcoder},
    {"command-r", &kSpecStarcoder},
    {"smollm", &kSpecStarcoder},
    {"codeshell", &kSpecStarcoder},
    {"exaone", &kSpecStarcoder},
    {"minerva-7b", &kSpecStarcoder},
    {"qwen2", &kSpecQwen2},
    {"deepseek-r1-qwen", &kSpecQwen2},
    {"stablelm2", &kSpecQwen2},
    {"megrez", &kSpecQwen2},
    {"hunyuan", &kSpecQwen2},
    {"kormo", &kSpecQwen2},
};

// Unicode White_Space (= llama.cpp's unicode_set_whitespace), as PCRE2 class contents.
constexpr char kWhiteSpace[] =
    "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

// Generous on purpose (tests check a margin of 2x at least): PCRE2 10.42 peaks at 10-30
// KiB for these expressions - compiled code of a few bytes per pattern byte, plus the
// JIT compiler's temporary data, which is freed (in LIFO order) before the next one.
constexpr size_t kRegionBase = 32 * 1024;
constexpr size_t kRegionPerRegex = 8 * 1024;
constexpr size_t kRegionPerPatternByte = 64;

} // namespace

const PreSpec *find_pre_spec(std::string_view pre) {
    if (pre.empty()) return &kSpecDefault; // llama.cpp: missing -> "default" (with a warning)
    for (const PreName &n : kNames)
        if (pre == n.name) return n.spec;
    return nullptr;
}

size_t translate_regex(const char *src, char *out, size_t out_cap) {
    size_t w = 0;
    bool in_class = false;
    auto put = [&](const char *s, size_t n) {
        if (w + n >= out_cap) return false;
        memcpy(out + w, s, n);
        w += n;
        return true;
    };
    for (size_t i = 0; src[i]; i++) {
        char c = src[i];
        if (c == '\\' && src[i + 1]) {
            char e = src[i + 1];
            i++;
            bool ok;
            if (e == 's') {
                ok = in_class ? put(kWhiteSpace, sizeof kWhiteSpace - 1)
                              : put("[", 1) && put(kWhiteSpace, sizeof kWhiteSpace - 1) && put("]", 1);
            } else if (e == 'S') {
                if (in_class) return 0; // not used by any supported expression
                ok = put("[^", 2) && put(kWhiteSpace, sizeof kWhiteSpace - 1) && put("]", 1);
            } else {
                char esc[2] = {'\\', e};
                ok = put(esc, 2);
            }
            if (!ok) return 0;
            continue;
        }
        if (c == '[' && !in_class) in_class = true;
        else if (c == ']' && in_class) in_class = false;
        if (!put(&c, 1)) return 0;
    }
    out[w] = 0;
    return w;
}

size_t pre_region_bytes(const PreSpec &spec) {
    size_t n = kRegionBase;
    for (int i = 0; i < spec.n_regex; i++) {
        char pattern[4096];
        n += kRegionPerRegex + kRegionPerPatternByte * translate_regex(spec.regex[i], pattern, sizeof pattern);
    }
    return n;
}

sm_status Pretokenizer::compile(const PreSpec &s, void *region_mem, size_t region_bytes, Error &err) {
    spec = &s;
    n = 0;
    jit = true;
    region = PcreRegion{};
    region.base = static_cast<uint8_t *>(region_mem);
    region.cap = region_bytes;
    for (int i = 0; i < s.n_regex; i++) {
        char pattern[4096];
        size_t len = translate_regex(s.regex[i], pattern, sizeof pattern);
        if (!len) return err.set(SM_ERR_INTERNAL, "tokenizer: pre-tokenizer '%s' expression %d is too long", s.name, i);
        bool jitted = false;
        if (compile_regex(pattern, len, region, &code[i], &jitted, err) != SM_OK) {
            release();
            return err.wrap("pre-tokenizer '%s'", s.name);
        }
        jit = jit && jitted;
        n = i + 1;
    }
    return SM_OK;
}

void Pretokenizer::release() {
    for (int i = 0; i < n; i++) {
        free_regex(code[i]);
        code[i] = nullptr;
    }
    n = 0;
}

sm_status Pretokenizer::split(const char *text, size_t len, uint32_t *a, uint32_t *b, const uint32_t **ends, size_t *n_words,
                              MatchScratch &ms, Error &err) const {
    uint32_t *in = a, *out = b;
    size_t m = 0;
    if (len > 0) in[m++] = static_cast<uint32_t>(len);
    for (int r = 0; r < n; r++) {
        size_t w = 0, start = 0;
        for (size_t k = 0; k < m; k++) {
            const size_t end = in[k];
            const char *subject = text + start;
            const size_t sub_len = end - start;
            size_t pos = 0, prev = 0;
            while (pos < sub_len) {
                size_t s = 0, e = 0;
                int rc = ms.find(code[r], subject, sub_len, pos, &s, &e, err);
                if (rc < 0) return err.code;
                if (rc == 0) break;
                if (e == s) { // empty match: no supported expression has one; step past it
                    pos = s + 1;
                    while (pos < sub_len && (static_cast<uint8_t>(subject[pos]) & 0xC0) == 0x80) pos++;
                    continue;
                }
                if (s > prev) out[w++] = static_cast<uint32_t>(start + s); // unmatched text is a word
                out[w++] = static_cast<uint32_t>(start + e);
                prev = pos = e;
            }
            if (prev < sub_len) out[w++] = static_cast<uint32_t>(end);
            start = end;
        }
        m = w;
        uint32_t *t = in;
        in = out;
        out = t;
    }
    *ends = in;
    *n_words = m;
    return SM_OK;
}

} // namespace sm::text
