// `smallmind bench-tokenizer [--vocab A.gguf[,B.gguf]] [--file TEXT] [--bytes N] [--reps R]`
//
// Text: --file, or N bytes (default 1 MiB) generated from a fixed seed - English-like
// words with punctuation, numbers, newlines and some accented, CJK and emoji text, so
// that every branch of the pre-tokenizers runs. Vocabularies: by default the SPM and
// GPT-2 test vocabularies in tests/data. For each: the whole text is encoded
// in one call (scratch planned for its length) and decoded token by token with
// token_bytes(); MB/s = text bytes / median time.
#include "perf/perf_commands.h"

#include "stats.h"

#include "demo/common/cli_args.h"

#include "core/bump.h"
#include "core/clock.h"
#include "core/file_map.h"
#include "format/gguf.h"
#include "format/model_file.h"
#include "text/tokenizer.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

std::string generate_text(size_t bytes) {
    static const char *const words[] = {
        "the",    "a",      "dragon", "knight",  "village",  "sword",   "gold",    "quest",  "said",
        "walked", "into",   "forest", "castle",  "merchant", "potion",  "of",      "and",    "to",
        "in",     "was",    "it's",   "don't",   "I'll",     "they're", "ancient", "map",    "shadow",
        "river",  "north",  "king",   "Eldoria", "Aurelia",  "tavern",  "ale",     "coins",  "café",
        "naïve",  "Zürich", "日本",   "東京",    "🐉",        "⚔️",  "🙂",    "Привет", "über",
    };
    static const char *const punct[] = {",", ".", "!", "?", ";", ":", " -", "\n", "\n\n", "...", "\""};
    const size_t nw = sizeof words / sizeof words[0], np = sizeof punct / sizeof punct[0];
    uint64_t state = 0x2545F4914F6CDD1Dull;
    auto next = [&]() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    std::string s;
    s.reserve(bytes + 64);
    while (s.size() < bytes) {
        uint64_t r = next();
        if (r % 17 == 0) s += std::to_string(next() % 100000);
        else s += words[(r >> 8) % nw];
        r = next();
        if (r % 7 == 0) s += punct[(r >> 8) % np];
        s += (r % 23 == 0) ? "  " : " ";
    }
    // Cut on a character boundary.
    size_t n = bytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) n--;
    s.resize(n);
    return s;
}

bool read_text(const std::string &path, std::string *out) {
    FILE *f = fopen(path.c_str(), "rb");
    if (!f) return false;
    char buf[65536];
    size_t n;
    out->clear();
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) out->append(buf, n);
    fclose(f);
    return true;
}

struct Aligned {
    void *p = nullptr;
    explicit Aligned(size_t n) : p(aligned_alloc(64, sm::align_up(n ? n : 64, 64))) {}
    ~Aligned() { free(p); }
};

int bench_one(const std::string &path, const std::string &text, int reps) {
    sm::Error err;
    sm::FileMap map;
    sm::gguf::File file;
    sm::text::VocabSource v;
    if (map.open(path.c_str(), err) != SM_OK || sm::gguf::parse(map.data(), map.size(), file, err) != SM_OK ||
        sm::vocab_from_gguf(file, v, err) != SM_OK) {
        fprintf(stderr, "error: %s: %s\n", path.c_str(), err.message);
        return 1;
    }
    size_t table_bytes = 0, scratch_bytes = 0;
    const uint64_t t_build = sm::now_ns();
    if (sm::text::Tokenizer::plan(v, static_cast<int>(text.size()), &table_bytes, &scratch_bytes, err) != SM_OK) {
        fprintf(stderr, "error: %s: %s\n", path.c_str(), err.message);
        return 1;
    }
    Aligned arena(table_bytes), scratch(scratch_bytes);
    sm::Bump ab = sm::Bump::over(arena.p, table_bytes);
    sm::text::Tokenizer tok;
    if (!arena.p || !scratch.p || tok.build(v, ab, err) != SM_OK) {
        fprintf(stderr, "error: %s: %s\n", path.c_str(), arena.p && scratch.p ? err.message : "out of memory");
        return 1;
    }
    const double build_ms = static_cast<double>(sm::now_ns() - t_build) / 1e6;

    std::vector<int32_t> ids(text.size() + 16);
    size_t n_ids = 0;
    std::vector<double> enc, dec;
    for (int r = 0; r < reps; r++) {
        sm::Bump s = sm::Bump::over(scratch.p, scratch_bytes);
        const uint64_t t0 = sm::now_ns();
        sm_status st = tok.encode(text, 0, ids.data(), ids.size(), &n_ids, s, err);
        const uint64_t t1 = sm::now_ns();
        if (st == SM_ERR_CAPACITY && n_ids > ids.size()) { // more ids than bytes (possible): grow, retry
            ids.resize(n_ids);
            r--;
            continue;
        }
        if (st != SM_OK) {
            fprintf(stderr, "error: encode: %s\n", err.message);
            tok.release();
            return 1;
        }
        enc.push_back(static_cast<double>(t1 - t0));
    }
    std::string out(text.size() * 2 + 64, '\0');
    size_t out_len = 0;
    for (int r = 0; r < reps; r++) {
        const uint64_t t0 = sm::now_ns();
        size_t w = 0;
        for (size_t i = 0; i < n_ids; i++) w += tok.token_bytes(ids[i], &out[w], out.size() - w);
        dec.push_back(static_cast<double>(sm::now_ns() - t0));
        out_len = w;
    }
    const double mb = static_cast<double>(text.size()) / 1e6;
    const char *kind = tok.kind() == sm::text::TokenizerKind::Spm ? "spm" : "bpe";
    printf("%s (%s, %d tokens, pre '%.*s')\n", path.c_str(), kind, tok.n_vocab(), static_cast<int>(v.pre.size()), v.pre.data());
    printf("  plan+build %.1f ms, tables %.2f MB, scratch %.2f MB for %zu bytes of text\n", build_ms, table_bytes / 1e6,
           scratch_bytes / 1e6, text.size());
    printf("  %zu tokens (%.2f bytes/token)\n", n_ids, n_ids ? static_cast<double>(text.size()) / n_ids : 0.0);
    printf("  encode %.2f MB/s   decode %.2f MB/s   (median of %d; decoded %zu bytes)\n", mb / (median(enc) / 1e9),
           mb / (median(dec) / 1e9), reps, out_len);
    tok.release();
    return 0;
}

} // namespace

int cmd_bench_tokenizer(int argc, char **argv) {
    Args a(argc, argv, 2);
    std::string vocab, file;
    int64_t bytes = 1 << 20, reps = 5;
    a.str("--vocab", &vocab);
    a.str("--file", &file);
    a.i64("--bytes", &bytes);
    a.i64("--reps", &reps);
    if (!a.finish("bench-tokenizer")) return 2;
    if (bytes <= 0 || reps <= 0) {
        fprintf(stderr, "error: --bytes and --reps must be positive\n");
        return 2;
    }
    std::string text;
    if (!file.empty()) {
        if (!read_text(file, &text)) {
            fprintf(stderr, "error: cannot read %s\n", file.c_str());
            return 1;
        }
    } else {
        text = generate_text(static_cast<size_t>(bytes));
    }
    std::vector<std::string> vocabs;
    if (vocab.empty()) {
        vocabs = {repo_file("tests/data/ggml-vocab-llama-spm.gguf"), repo_file("tests/data/ggml-vocab-gpt-2.gguf")};
    } else {
        for (size_t at = 0; at <= vocab.size();) {
            size_t comma = vocab.find(',', at);
            if (comma == std::string::npos) comma = vocab.size();
            if (comma > at) vocabs.push_back(vocab.substr(at, comma - at));
            at = comma + 1;
        }
    }
    printf("bench-tokenizer: %zu bytes of text%s, %d reps\n", text.size(), file.empty() ? " (generated)" : "",
           static_cast<int>(reps));
    int rc = 0;
    for (const std::string &v : vocabs) rc |= bench_one(v, text, static_cast<int>(reps));
    return rc;
}
