// GPT-2 byte-level BPE (tokenizer.ggml.model = "gpt2"), as llama.cpp's
// llm_tokenizer_bpe_session: the text is read as code points (invalid bytes -> U+FFFD),
// split into words by the pre-tokenizer, every byte of a word becomes one symbol (its
// GPT-2 character), and adjacent symbols merge by merge rank (lowest first, ties:
// leftmost). A final symbol that is not a token falls back to tokens for its single
// bytes, if any.
//
// Symbols carry string ids instead of strings: build() interned every token and every
// merge side, and stored for each merge the id of its result, so the loop never hashes
// or compares text.
#include "text/merge_heap.h"
#include "text/unicode.h"

namespace sm::text {

namespace {

// True when text is valid, shortest-form UTF-8 without surrogates: then llama.cpp's
// decode + re-encode is the identity and PCRE2 can match the text as it is.
bool is_clean_utf8(const uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t adv;
        uint32_t cp = decode_lenient(p + i, n - i, &adv);
        char tmp[4];
        if (cp == kReplacementChar && adv == 1) return false; // a bad byte, not a real U+FFFD
        if (cp >= 0xD800 && cp <= 0xDFFF) return false;
        if (encode_utf8(cp, tmp) != adv) return false; // overlong
        i += adv;
    }
    return true;
}

void bpe_word(const TokenizerImpl &t, const uint8_t *w, uint32_t len, EncodeScratch &s, TokenSink &sink) {
    if (t.ignore_merges) { // llama3: a word that is a token is taken whole
        size_t k = 0;
        for (uint32_t i = 0; i < len; i++) k += encode_utf8(gpt2_byte_to_cpt(w[i]), s.word + k);
        int32_t id = t.find(s.word, k);
        if (id >= 0) {
            sink.push(id);
            return;
        }
    }
    MergeSymbol *sym = s.sym;
    const int32_t count = static_cast<int32_t>(len);
    for (int32_t i = 0; i < count; i++) {
        MergeSymbol &y = sym[i];
        y.prev = i - 1;
        y.next = i + 1 < count ? i + 1 : -1;
        y.off = static_cast<uint32_t>(i);
        y.len = 1;
        y.id = t.byte_string[w[i]];
        y.heap_pos = -1;
    }
    auto before = [sym](int32_t a, int32_t b) { return sym[a].rank < sym[b].rank || (sym[a].rank == sym[b].rank && a < b); };
    MergeHeap<decltype(before)> heap(sym, s.heap, before);
    auto evaluate = [&](int32_t i) {
        int32_t j = sym[i].next;
        const MergeSlot *m = (j < 0 || sym[i].id < 0 || sym[j].id < 0) ? nullptr : t.find_merge(sym[i].id, sym[j].id);
        if (!m) {
            heap.remove(i);
            return;
        }
        sym[i].rank = m->rank;
        sym[i].result = m->result;
        heap.set(i);
    };
    for (int32_t i = 0; i + 1 < count; i++) evaluate(i);
    merge_all(sym, heap, evaluate, [sym](int32_t i) { sym[i].id = sym[i].result; });
    for (int32_t i = 0; i != -1; i = sym[i].next) {
        if (sym[i].id >= 0 && sym[i].id < t.n_vocab) {
            sink.push(sym[i].id);
            continue;
        }
        // Not a token: llama.cpp looks up each byte of the symbol's GPT-2 characters as
        // a one-byte piece and emits those it finds (normally the ASCII ones only).
        for (uint32_t k = 0; k < sym[i].len; k++) {
            char ch[4];
            size_t nb = encode_utf8(gpt2_byte_to_cpt(w[sym[i].off + k]), ch);
            for (size_t c = 0; c < nb; c++) {
                int32_t id = t.byte_token[static_cast<uint8_t>(ch[c])];
                if (id >= 0) sink.push(id);
            }
        }
    }
}

} // namespace

sm_status bpe_encode(const TokenizerImpl &t, const char *text, size_t n, EncodeScratch &s, TokenSink &sink, Error &err) {
    // 1. Code points as llama.cpp reads them. `norm` is what BPE sees (the re-encoded code
    //    points), `match` what the regexes see: the same bytes, except that surrogates
    //    (which PCRE2 rejects) become U+E000, another code point of category C.
    const uint8_t *in = reinterpret_cast<const uint8_t *>(text);
    const char *norm = text, *match = text;
    size_t m = n;
    if (!is_clean_utf8(in, n)) {
        char *a = s.text_a, *b = s.text_b;
        m = 0;
        for (size_t i = 0; i < n;) {
            size_t adv;
            uint32_t cp = decode_lenient(in + i, n - i, &adv);
            size_t k = encode_utf8(cp, a + m);
            if (cp >= 0xD800 && cp <= 0xDFFF) encode_utf8(0xE000, b + m);
            else memcpy(b + m, a + m, k);
            m += k;
            i += adv;
        }
        norm = a;
        match = b;
    }
    // 2. Words.
    const uint32_t *ends = nullptr;
    size_t n_words = 0;
    SM_TRY(t.pre.split(match, m, s.ends_a, s.ends_b, &ends, &n_words, *s.match, err));
    // 3. Merges, word by word.
    uint32_t start = 0;
    for (size_t k = 0; k < n_words; k++) {
        if (ends[k] - start > s.sym_cap) // the layout's bound is wrong: never write past it
            return err.set(SM_ERR_INTERNAL, "tokenizer: BPE word longer than planned (%zu)", s.sym_cap);
        bpe_word(t, reinterpret_cast<const uint8_t *>(norm) + start, ends[k] - start, s, sink);
        start = ends[k];
    }
    return SM_OK;
}

} // namespace sm::text
