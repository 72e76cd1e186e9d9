// The built tokenizer: immutable tables in arena memory, shared by spm.cpp, bpe.cpp and
// tokenizer.cpp. Private to runtime/src/text.
#pragma once
#include "text/pretokenize.h"
#include "text/tokenizer.h"

#include <cstring>

namespace sm::text {

// llama.cpp's llama_token_attr bits that matter here (set from tokenizer.ggml.token_type
// plus llama.cpp's name-based fix-ups).
enum TokenAttr : uint8_t {
    kAttrUnknown = 1,
    kAttrUnused = 2,
    kAttrNormal = 4,
    kAttrControl = 8,
    kAttrUserDefined = 16,
    kAttrByte = 32,
};

// FNV-1a over the bytes, then a final mix so that the low bits used for the slot are good.
// Streaming: hash_more(hash_more(h0, a), b) == hash of a+b.
constexpr uint64_t kHashSeed = 0xcbf29ce484222325ull;
inline uint64_t hash_more(uint64_t h, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ static_cast<uint8_t>(p[i])) * 0x100000001b3ull;
    return h;
}
inline uint64_t hash_final(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}
inline uint64_t hash_bytes(const char *p, size_t n) { return hash_final(hash_more(kHashSeed, p, n)); }
inline uint64_t hash_u64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

// BPE merge (left string id, right string id) -> (rank, id of the merged string).
struct MergeSlot {
    uint64_t key; // (left << 32 | right) + 1; 0 = empty
    int32_t rank;
    int32_t result; // string id of left+right, -1 when it is neither a token nor a merge side
};

struct TokenizerImpl {
    TokenizerKind kind = TokenizerKind::None;
    int32_t n_vocab = 0;
    int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, pad = -1;
    bool add_bos = false, add_space_prefix = false, ignore_merges = false;

    // Vocabulary: piece i is blob[offs[i], offs[i+1]).
    const char *blob = nullptr;
    const uint32_t *offs = nullptr;
    const float *scores = nullptr;
    const uint8_t *attrs = nullptr;
    // Per token: token_bytes()'s first byte, then its first past blanks (' ', '\n', '\t');
    // -1 for none. A choice constraint tests every token of the vocabulary per sample.
    const int16_t *first_bytes = nullptr;
    const int32_t *slots = nullptr; // piece -> id, open addressing, -1 = empty
    uint32_t slot_mask = 0;
    int32_t max_piece_len = 0;

    // Tokens matched in the text before tokenizing (control, user-defined, unknown),
    // longest first like llama.cpp's cache_special_tokens.
    const int32_t *special = nullptr;
    int32_t n_special = 0;
    int32_t n_user_defined = 0; // of those, matched even without kParseSpecial
    int32_t min_special_len = 1;
    const int32_t *eog = nullptr; // end-of-generation ids, ascending
    int32_t n_eog = 0;

    // SPM: the token a byte falls back to (<0xXX>, else the 1-byte piece, else -1).
    // BPE: the token whose piece is that single raw byte (llama.cpp's last resort).
    int32_t byte_token[256] = {};
    // SPM: whether some piece has this byte right before a U+2581; where none has, no
    // token can span the start of a "▁", so the merge loop can run word by word.
    bool joins_space[256] = {};
    // BPE: string id of GPT-2's character for each byte (-1 if no token/merge uses it).
    int32_t byte_string[256] = {};
    const MergeSlot *merges = nullptr;
    uint32_t merge_mask = 0;
    Pretokenizer pre;

    std::string_view chat_template;

    std::string_view piece(int32_t id) const { return {blob + offs[id], offs[id + 1] - offs[id]}; }

    // Token id whose piece is exactly p[0,n), or -1.
    int32_t find(const char *p, size_t n) const {
        if (n > static_cast<size_t>(max_piece_len)) return -1;
        uint32_t i = static_cast<uint32_t>(hash_bytes(p, n)) & slot_mask;
        for (;; i = (i + 1) & slot_mask) {
            int32_t id = slots[i];
            if (id < 0) return -1;
            if (offs[id + 1] - offs[id] == n && memcmp(blob + offs[id], p, n) == 0) return id;
        }
    }

    const MergeSlot *find_merge(int32_t left, int32_t right) const {
        uint64_t key = ((static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right)) + 1;
        uint32_t i = static_cast<uint32_t>(hash_u64(key)) & merge_mask;
        for (;; i = (i + 1) & merge_mask) {
            const MergeSlot &s = merges[i];
            if (s.key == key) return &s;
            if (s.key == 0) return nullptr;
        }
    }
};

// Collects output ids: writes while there is room, always counts.
struct TokenSink {
    int32_t *out;
    size_t cap;
    size_t n = 0;
    void push(int32_t id) {
        if (n < cap) out[n] = id;
        n++;
    }
};

// Encoding one piece of plain text (no special tokens in it) into sink; scratch
// arrays come from the layout below.
struct EncodeScratch;
sm_status spm_encode(const TokenizerImpl &t, const char *text, size_t n, bool prefix_space, EncodeScratch &s, TokenSink &sink,
                     Error &err);
sm_status bpe_encode(const TokenizerImpl &t, const char *text, size_t n, EncodeScratch &s, TokenSink &sink, Error &err);

// A symbol of the merge loop: a run of bytes of the text, linked to its live neighbours,
// with the priority of merging it with its right neighbour.
struct MergeSymbol {
    int32_t prev, next;
    uint32_t off, len; // bytes of the (escaped / normalised) text
    int32_t heap_pos;  // position in the heap, -1 when its right pair cannot merge
    union {
        float score;  // SPM: score of the pair's token (higher first)
        int32_t rank; // BPE: merge rank (lower first)
    };
    int32_t id;     // BPE: string id of the run (-1: cannot merge)
    int32_t result; // BPE: string id of the merged pair
};
static_assert(sizeof(MergeSymbol) == 32, "scratch per symbol");

// Everything encode() uses, carved from the scratch Bump in one go (plan() measures the
// same layout, so scratch_bytes is exact).
struct EncodeScratch {
    struct Fragment {
        uint32_t off, len;
        int32_t token; // -1: raw text
    };
    Fragment *frag_a = nullptr, *frag_b = nullptr;
    size_t frag_cap = 0;
    char *text_a = nullptr, *text_b = nullptr; // SPM: escaped text; BPE: match / normalised text
    size_t text_cap = 0;
    uint32_t *ends_a = nullptr, *ends_b = nullptr; // BPE word ends
    size_t ends_cap = 0;
    MergeSymbol *sym = nullptr;
    int32_t *heap = nullptr;
    size_t sym_cap = 0;
    char *word = nullptr; // BPE ignore_merges: the word in GPT-2 characters
    size_t word_cap = 0;
    void *pcre = nullptr;
    size_t pcre_bytes = 0;
    MatchScratch *match = nullptr; // set by encode() when the pre-tokenizer is in use
};

void layout_scratch(const TokenizerImpl &t, size_t n_bytes, Bump &b, EncodeScratch &s);

} // namespace sm::text

namespace sm::text {

// vocab_build.cpp: builds every table of t in arena (see Tokenizer::build), and a
// generous upper bound of the bytes that takes, for plan()'s trial build.
sm_status build_tables(const VocabSource &v, Bump &arena, TokenizerImpl **out, Error &err);
// tokenizer.cpp: fills first (2 x n_vocab) for t.first_bytes, from t's other tables.
void fill_first_bytes(const TokenizerImpl &t, int16_t *first);
size_t build_bytes_upper_bound(const VocabSource &v);

} // namespace sm::text
