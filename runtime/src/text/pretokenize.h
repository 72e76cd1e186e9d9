// The byte-level BPE pre-tokenizer: splits text into words with the regular expressions
// llama.cpp uses for each tokenizer.ggml.pre value (llm_tokenizer_bpe in llama-vocab.cpp),
// applied the way llama.cpp's unicode_regex_split() applies them: each expression in
// turn refines the words the previous ones produced, every word is matched on its own
// (lookaheads and `$` stop at the word's end), and text between matches is a word too.
//
// llama.cpp evaluates \p{..} on a "collapsed" text (one byte per Unicode category) with
// std::regex, and hand-codes the GPT-2 and Llama-3 expressions; both are equivalent to
// evaluating the expressions with real Unicode categories, which PCRE2 (UTF + UCP)
// provides. One difference is removed explicitly: llama.cpp's \s is the Unicode
// White_Space set (its unicode_set_whitespace), while PCRE2's \s also matches U+180E,
// so \s and \S are rewritten to that exact set before compiling.
#pragma once
#include "core/error.h"
#include "text/pcre_glue.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sm::text {

constexpr int kMaxPreRegex = 6;

struct PreSpec {
    const char *name;         // canonical llama.cpp pre-type, for messages
    const char *const *regex; // llama.cpp's expressions, in order
    int n_regex;
    bool ignore_merges; // a word that is already a token is emitted whole (llama3)
    int add_bos;        // default for add_bos: 1 / 0
};

// The spec for a tokenizer.ggml.pre value ("" means llama.cpp's "default"); nullptr
// when llama.cpp's value is not one this runtime implements.
const PreSpec *find_pre_spec(std::string_view pre);

// Arena bytes the compiled expressions of spec need (region for PCRE2; generous).
size_t pre_region_bytes(const PreSpec &spec);

struct Pretokenizer {
    const PreSpec *spec = nullptr;
    int n = 0;
    pcre2_real_code_8 *code[kMaxPreRegex] = {};
    PcreRegion region;
    bool jit = true; // every expression JIT-compiled

    sm_status compile(const PreSpec &s, void *region_mem, size_t region_bytes, Error &err);
    void release();

    // Splits text[0,n) (valid UTF-8, no surrogates) into words. The result is the
    // ascending list of word end offsets in *ends (count *n_words), written to one of
    // the two buffers a and b (each with room for n + 1 offsets).
    sm_status split(const char *text, size_t n, uint32_t *a, uint32_t *b, const uint32_t **ends, size_t *n_words,
                    MatchScratch &ms, Error &err) const;
};

// Rewrites \s and \S in a llama.cpp expression into the White_Space set (see above).
// Returns the length written, or 0 when out_cap is too small.
size_t translate_regex(const char *src, char *out, size_t out_cap);

} // namespace sm::text
