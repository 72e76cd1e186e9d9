// Tokenizers built from a model's vocabulary metadata: SentencePiece BPE
// (tokenizer.ggml.model = "llama") and GPT-2 byte-level BPE ("gpt2"), behind one class.
//
// Both reproduce llama.cpp's tokenization (llama-vocab.cpp) token for token.
//
// Memory: build() takes all its tables from the arena (plan() says how much first);
// encode() works only in the scratch it is handed (plan() says how much for a given
// text length) and never touches the heap. Sizes are exact when the Bump's `used` is a
// multiple of 64 on entry (e.g. a fresh Bump); otherwise up to 63 bytes of alignment
// more. Apart from arena memory, a BPE tokenizer holds PCRE2 JIT machine code (a few KiB
// of executable memory PCRE2 maps itself): call release() before dropping the arena.
// A built tokenizer is never written to: several threads may encode at once, each with
// its own scratch.
#pragma once
#include "core/bump.h"
#include "core/error.h"
#include "text/vocab_source.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sm::text {

enum class TokenizerKind { None, Spm, Bpe };

enum EncodeFlags : uint32_t {
    kAddBos = 1,       // SM_TOKENIZE_ADD_BOS: prepend BOS when the vocabulary has one
    kParseSpecial = 2, // SM_TOKENIZE_PARSE_SPECIAL: control/user-defined tokens in the text
};

struct TokenizerImpl; // private to text/

// The trial build plan() makes to size the tables, kept (in heap memory) for build() to
// copy into the arena rather than build it again: a model load builds its tokenizer once.
class TokenizerTrial {
public:
    TokenizerTrial() = default;
    TokenizerTrial(const TokenizerTrial &) = delete;
    TokenizerTrial &operator=(const TokenizerTrial &) = delete;
    ~TokenizerTrial() { reset(); }
    void reset(); // frees it (build() does once it has used it)

private:
    friend class Tokenizer;
    void *mem_ = nullptr; // 64-aligned; the tables are its first bytes_ bytes
    size_t bytes_ = 0;
    TokenizerImpl *impl_ = nullptr;
    const VocabSource *source_ = nullptr; // the vocabulary it was built from
};

class Tokenizer {
public:
    // Arena bytes build() will take for this vocabulary, and the scratch one encode() of
    // up to max_text_bytes needs. Fails (SM_ERR_FORMAT / SM_ERR_UNSUPPORTED) exactly when
    // build() would, e.g. for an unknown tokenizer.ggml.pre. It does a trial build in
    // temporary heap memory (interning BPE merges needs lookups a measuring pass cannot
    // do), so it costs about what build() costs. Scratch is linear in max_text_bytes:
    // sized for the worst cases (invalid UTF-8), ~90 bytes per text byte for SPM, ~130
    // for BPE. With `keep`, the trial build is kept there for build().
    // tokenizer.ggml.model "" / "none" / "no_vocab" builds a tokenizer of kind None
    // (pieces only; encode() gives SM_ERR_UNSUPPORTED).
    static sm_status plan(const VocabSource &v, int max_text_bytes, size_t *table_bytes, size_t *scratch_bytes, Error &err,
                          TokenizerTrial *keep = nullptr);
    // Builds into arena (table_bytes of it). Given plan()'s trial of the same VocabSource
    // object, copies that instead of building again (same tables, same arena bytes),
    // then frees the trial.
    sm_status build(const VocabSource &v, Bump &arena, Error &err, TokenizerTrial *trial = nullptr);
    // Frees what lives outside the arena (compiled regexes); the tokenizer is unusable
    // afterwards. Safe to call twice or on a tokenizer that was never built.
    void release();

    TokenizerKind kind() const;
    int32_t n_vocab() const;
    int32_t bos() const; // -1 when absent
    int32_t eos() const;
    int32_t eot() const;                         // end of turn (<|eot_id|>, <|im_end|>...), -1 when absent
    bool add_bos() const;                        // add BOS at the start of a prompt
    bool strips_leading_space() const;           // SPM: drop the space the first piece after BOS adds
    bool is_end_of_generation(int32_t id) const; // EOS, EOT and friends
    bool is_control(int32_t id) const;
    std::string_view piece(int32_t id) const; // the raw vocabulary string
    std::string_view chat_template() const;   // "" when absent

    // Appends ids for text to out (at most cap); *n_out gets the count needed. Returns
    // SM_ERR_CAPACITY if cap or the scratch is too small. kAddBos prepends bos() when
    // the vocabulary has one (callers pass it when add_bos() says so).
    // Invalid UTF-8 never fails, and is read exactly as llama.cpp reads it:
    //  - BPE: each byte that does not start a complete sequence is U+FFFD (so it becomes
    //    the tokens of EF BF BD); overlong forms and surrogates count as their code
    //    point; a 4-byte form above U+10FFFF is U+FFFD per byte (llama.cpp throws).
    //  - SPM: bytes pass through; a character that is not a token comes out as its byte
    //    tokens <0xNN> (a lead byte takes the next 1-3 bytes into its character, valid
    //    or not). A vocabulary without a needed byte token gives <unk> (llama.cpp throws).
    sm_status encode(std::string_view text, uint32_t flags, int32_t *out, size_t cap, size_t *n_out, Bump &scratch,
                     Error &err) const;

    // The bytes token id stands for in text (byte tokens give their byte, "▁" a space,
    // GPT-2's byte-to-unicode characters their bytes). Control and unknown tokens give
    // "" unless render_control; user-defined ones their text; unused/undefined ones ""
    // (llama.cpp's token_to_piece). Out-of-range ids give "". Returns the length;
    // writes at most cap bytes. No clean-up of spaces (llama.cpp's detokenize option).
    size_t token_bytes(int32_t id, char *buf, size_t cap, bool render_control = false) const;
    // token_bytes(id)'s first byte (0-255), past any leading ' ', '\n' and '\t' when
    // skip_space; -1 when there is none. A table lookup (build() fills it): a choice
    // constraint asks it of every token of the vocabulary at every sample.
    int first_byte(int32_t id, bool skip_space) const;

private:
    const TokenizerImpl *impl_ = nullptr;
};

// Decoding a stream of token bytes into whole UTF-8 characters: a game's text box never
// receives half a character. Output is always valid UTF-8: each byte that cannot start
// or continue a valid sequence (stray continuation bytes, C0/C1/F5-FF, overlong or
// surrogate or >U+10FFFF prefixes, a lead byte cut short by a non-continuation byte)
// becomes one U+FFFD, following the WHATWG "maximal subpart" rule.
class Utf8Stream {
public:
    // Writes the complete characters of pending + bytes to out; keeps an incomplete
    // tail (a valid prefix, <= 3 bytes) for the next call. Returns bytes written.
    // cap >= 3 * n + 9 always suffices (a bad byte becomes the 3 bytes of U+FFFD; valid
    // input needs only n + 3); characters that do not fit in cap are dropped.
    size_t push(const char *bytes, size_t n, char *out, size_t cap);
    // Emits what is left (an incomplete tail becomes one U+FFFD; cap >= 3 suffices).
    size_t flush(char *out, size_t cap);
    void reset() { n_pending_ = 0; }
    int pending() const { return n_pending_; }
    const unsigned char *pending_bytes() const { return pending_; }
    void restore(const unsigned char *bytes, int n); // for session save/load

private:
    unsigned char pending_[4] = {0};
    int n_pending_ = 0;
};

// Chat templates recognised from tokenizer.chat_template (no Jinja engine).
enum class ChatTemplate { Plain, ChatML, Llama2, Zephyr, Llama3 };
ChatTemplate detect_chat_template(std::string_view tmpl);
// Formats messages into out (at most cap bytes); returns the full length.
struct ChatMessage {
    std::string_view role, content;
};
size_t format_chat(ChatTemplate t, const ChatMessage *msgs, size_t n, bool add_assistant, std::string_view bos,
                   std::string_view eos, char *out, size_t cap);

} // namespace sm::text
