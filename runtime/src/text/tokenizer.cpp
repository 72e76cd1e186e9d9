// Tokenizer: plan/build, special-token partitioning and dispatch to SPM or BPE, and
// decoding single tokens back to bytes.
#include "text/tokenizer_impl.h"
#include "text/unicode.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace sm::text {

// --- scratch layout --------------------------------------------------------------------

void layout_scratch(const TokenizerImpl &t, size_t n, Bump &b, EncodeScratch &s) {
    constexpr size_t kAlign = 16;
    s = EncodeScratch{};
    if (t.kind == TokenizerKind::None) return;
    s.frag_cap = t.n_special > 0 ? 2 * (n / static_cast<size_t>(t.min_special_len)) + 1 : 1;
    s.frag_a = b.take_n<EncodeScratch::Fragment>(s.frag_cap, kAlign);
    s.frag_b = b.take_n<EncodeScratch::Fragment>(t.n_special > 0 ? s.frag_cap : 0, kAlign);
    if (t.kind == TokenizerKind::Spm) {
        // Escaping turns each byte into at most 3, plus the leading space. Symbols (the
        // characters of the escaped text) are at most 1.5 per input byte: a lead byte
        // before a space can swallow the first byte of its U+2581 and leave the other
        // two as symbols of their own ("\xC3 " -> [C3 E2] [96] [81]).
        s.text_cap = 3 * (n + 1);
        s.text_a = b.take_n<char>(s.text_cap, kAlign);
        s.sym_cap = 2 * (n + 1);
    } else {
        // Each bad input byte becomes U+FFFD (3 bytes); words <= code points <= bytes;
        // every byte of the normalised text is one symbol of its word.
        s.text_cap = 3 * n;
        s.text_a = b.take_n<char>(s.text_cap, kAlign);
        s.text_b = b.take_n<char>(s.text_cap, kAlign);
        s.ends_cap = n + 1;
        s.ends_a = b.take_n<uint32_t>(s.ends_cap, kAlign);
        s.ends_b = b.take_n<uint32_t>(s.ends_cap, kAlign);
        s.sym_cap = 3 * n + 1;
        if (t.ignore_merges) {
            s.word_cap = 6 * n + 1; // GPT-2 characters take up to 2 bytes each
            s.word = b.take_n<char>(s.word_cap, kAlign);
        }
        s.pcre_bytes = match_scratch_bytes(t.pre.jit);
        s.pcre = b.take(s.pcre_bytes, kAlign);
    }
    s.sym = b.take_n<MergeSymbol>(s.sym_cap, kAlign);
    s.heap = b.take_n<int32_t>(s.sym_cap, kAlign);
}

// --- plan / build ----------------------------------------------------------------------

sm_status Tokenizer::plan(const VocabSource &v, int max_text_bytes, size_t *table_bytes, size_t *scratch_bytes, Error &err,
                          TokenizerTrial *keep) {
    *table_bytes = 0;
    *scratch_bytes = 0;
    if (keep) keep->reset();
    if (max_text_bytes < 0) return err.set(SM_ERR_INVALID_ARGUMENT, "tokenizer: max_text_bytes %d < 0", max_text_bytes);
    // A trial build into temporary memory gives the exact size (interning merges needs
    // the lookups a measuring pass cannot do) and fails exactly when build() would.
    const size_t upper = align_up(build_bytes_upper_bound(v), kCacheLine);
    void *mem = aligned_alloc(kCacheLine, upper);
    if (!mem) return err.set(SM_ERR_BUDGET, "tokenizer: no memory for planning (%zu bytes)", upper);
    Bump trial = Bump::over(mem, upper);
    TokenizerImpl *t = nullptr;
    sm_status st = build_tables(v, trial, &t, err);
    if (st == SM_OK) {
        *table_bytes = trial.used;
        Bump m = Bump::measuring();
        EncodeScratch s;
        layout_scratch(*t, static_cast<size_t>(max_text_bytes), m, s);
        *scratch_bytes = m.used;
        if (keep) {
            keep->mem_ = mem;
            keep->bytes_ = trial.used;
            keep->impl_ = t;
            keep->source_ = &v;
            return SM_OK;
        }
    }
    if (t) t->pre.release();
    free(mem);
    return st;
}

void TokenizerTrial::reset() {
    if (impl_) impl_->pre.release();
    free(mem_);
    mem_ = nullptr;
    bytes_ = 0;
    impl_ = nullptr;
    source_ = nullptr;
}

namespace {

// A trial build copied into the arena: the same bytes at a 64-aligned start (so every
// alignment within holds), each pointer moved by the same offset, and the pre-tokenizer
// compiled again into its copied region (PCRE2's code and JIT code cannot be moved).
// A pointer field added to TokenizerImpl must be moved here too: tests/text/memory_test
// frees the trial before using the copy, so ASan reports one left behind.
sm_status copy_trial(const uint8_t *src, size_t bytes, TokenizerImpl *from, Bump &arena, TokenizerImpl **out, Error &err) {
    uint8_t *dst = static_cast<uint8_t *>(arena.take(bytes, kCacheLine));
    if (!dst) return err.set(SM_ERR_CAPACITY, "tokenizer: arena too small (%zu of %zu bytes used)", arena.used, arena.cap);
    memcpy(dst, src, bytes);
    auto moved = [&](auto *p) {
        return p ? reinterpret_cast<decltype(p)>(dst + (reinterpret_cast<const uint8_t *>(p) - src)) : p;
    };
    TokenizerImpl &t = *moved(from);
    t.blob = moved(t.blob);
    t.offs = moved(t.offs);
    t.scores = moved(t.scores);
    t.attrs = moved(t.attrs);
    t.first_bytes = moved(t.first_bytes);
    t.slots = moved(t.slots);
    t.special = moved(t.special);
    t.eog = moved(t.eog);
    t.merges = moved(t.merges);
    if (!t.chat_template.empty()) t.chat_template = std::string_view(moved(t.chat_template.data()), t.chat_template.size());
    t.pre = Pretokenizer{}; // the copy's code and region are the trial's
    *out = &t;
    if (from->pre.spec) SM_TRY(t.pre.compile(*from->pre.spec, moved(from->pre.region.base), from->pre.region.cap, err));
    return SM_OK;
}

} // namespace

sm_status Tokenizer::build(const VocabSource &v, Bump &arena, Error &err, TokenizerTrial *trial) {
    impl_ = nullptr;
    if (arena.is_measuring()) return err.set(SM_ERR_INVALID_ARGUMENT, "tokenizer: build() needs real arena memory");
    TokenizerImpl *t = nullptr;
    size_t mark = arena.used;
    // The copy needs the arena's start 64-aligned, as the trial's was (else: build again).
    const bool copy = trial && trial->impl_ && trial->source_ == &v &&
                      (reinterpret_cast<uintptr_t>(arena.base) + align_up(arena.used, kCacheLine)) % kCacheLine == 0;
    sm_status st = copy ? copy_trial(static_cast<const uint8_t *>(trial->mem_), trial->bytes_, trial->impl_, arena, &t, err)
                        : build_tables(v, arena, &t, err);
    if (trial) trial->reset();
    if (st != SM_OK) {
        if (t) t->pre.release();
        arena.used = mark;
        return st;
    }
    impl_ = t;
    return SM_OK;
}

void Tokenizer::release() {
    if (impl_) const_cast<TokenizerImpl *>(impl_)->pre.release();
    impl_ = nullptr;
}

// --- accessors -------------------------------------------------------------------------

TokenizerKind Tokenizer::kind() const { return impl_ ? impl_->kind : TokenizerKind::None; }
int32_t Tokenizer::n_vocab() const { return impl_ ? impl_->n_vocab : 0; }
int32_t Tokenizer::bos() const { return impl_ ? impl_->bos : -1; }
int32_t Tokenizer::eos() const { return impl_ ? impl_->eos : -1; }
int32_t Tokenizer::eot() const { return impl_ ? impl_->eot : -1; }
bool Tokenizer::add_bos() const { return impl_ && impl_->add_bos; }
bool Tokenizer::strips_leading_space() const { return impl_ && impl_->kind == TokenizerKind::Spm && impl_->add_space_prefix; }
bool Tokenizer::is_end_of_generation(int32_t id) const {
    if (!impl_) return false;
    for (int32_t i = 0; i < impl_->n_eog; i++)
        if (impl_->eog[i] == id) return true;
    return false;
}
bool Tokenizer::is_control(int32_t id) const {
    return impl_ && id >= 0 && id < impl_->n_vocab && (impl_->attrs[id] & kAttrControl);
}
std::string_view Tokenizer::piece(int32_t id) const {
    if (!impl_ || id < 0 || id >= impl_->n_vocab) return {};
    return impl_->piece(id);
}
std::string_view Tokenizer::chat_template() const { return impl_ ? impl_->chat_template : std::string_view(); }

// --- encode ----------------------------------------------------------------------------

namespace {

size_t find_bytes(const char *hay, size_t n, std::string_view needle) {
    const size_t m = needle.size();
    if (m == 0 || m > n) return SIZE_MAX;
    const char first = needle[0];
    for (const char *p = hay, *end = hay + (n - m) + 1; p < end;) {
        p = static_cast<const char *>(memchr(p, first, static_cast<size_t>(end - p)));
        if (!p) return SIZE_MAX;
        if (memcmp(p, needle.data(), m) == 0) return static_cast<size_t>(p - hay);
        p++;
    }
    return SIZE_MAX;
}

// llama.cpp's tokenizer_st_partition(): for each special token, longest first, cut every
// remaining raw fragment at each (leftmost, non-overlapping) occurrence. Control and
// unknown tokens only take part with parse_special; user-defined ones always do.
size_t partition(const TokenizerImpl &t, const char *text, size_t n, bool parse_special, EncodeScratch &s,
                 EncodeScratch::Fragment **result) {
    using Frag = EncodeScratch::Fragment;
    Frag *cur = s.frag_a, *nxt = s.frag_b;
    size_t m = 0;
    if (n > 0) cur[m++] = Frag{0, static_cast<uint32_t>(n), -1};
    if (parse_special || t.n_user_defined > 0) {
        for (int32_t k = 0; k < t.n_special; k++) {
            const int32_t id = t.special[k];
            if (!parse_special && (t.attrs[id] & (kAttrControl | kAttrUnknown))) continue;
            const std::string_view p = t.piece(id);
            size_t w = 0;
            bool hit = false;
            for (size_t f = 0; f < m; f++) {
                if (cur[f].token >= 0) {
                    nxt[w++] = cur[f];
                    continue;
                }
                uint32_t off = cur[f].off, len = cur[f].len;
                for (;;) {
                    size_t at = find_bytes(text + off, len, p);
                    if (at == SIZE_MAX) {
                        nxt[w++] = Frag{off, len, -1};
                        break;
                    }
                    hit = true;
                    if (at > 0) nxt[w++] = Frag{off, static_cast<uint32_t>(at), -1};
                    nxt[w++] = Frag{0, 0, id};
                    size_t consumed = at + p.size();
                    if (consumed == len) break;
                    off += static_cast<uint32_t>(consumed);
                    len -= static_cast<uint32_t>(consumed);
                }
            }
            if (hit) {
                Frag *tmp = cur;
                cur = nxt;
                nxt = tmp;
                m = w;
            }
        }
    }
    *result = cur;
    return m;
}

} // namespace

sm_status Tokenizer::encode(std::string_view text, uint32_t flags, int32_t *out, size_t cap, size_t *n_out, Bump &scratch,
                            Error &err) const {
    *n_out = 0;
    if (!impl_) return err.set(SM_ERR_INVALID_ARGUMENT, "tokenizer: not built");
    const TokenizerImpl &t = *impl_;
    if (t.kind == TokenizerKind::None) return err.set(SM_ERR_UNSUPPORTED, "tokenizer: the model has no vocabulary");
    if (text.size() > (UINT32_MAX / 4)) return err.set(SM_ERR_CAPACITY, "tokenizer: text of %zu bytes is too long", text.size());

    const size_t mark = scratch.used;
    EncodeScratch s;
    layout_scratch(t, text.size(), scratch, s);
    if (scratch.is_measuring() || scratch.overflowed()) {
        size_t need = scratch.used - mark;
        scratch.used = mark;
        return err.set(SM_ERR_CAPACITY, "tokenizer: scratch too small for %zu bytes of text (needs %zu bytes)", text.size(),
                       need);
    }
    MatchScratch ms; // referenced by PCRE2's allocator while matching: stays put
    if (t.kind == TokenizerKind::Bpe) {
        if (ms.init(s.pcre, s.pcre_bytes, t.pre.jit, err) != SM_OK) {
            scratch.used = mark;
            return err.code;
        }
        s.match = &ms;
    }

    TokenSink sink{out, out ? cap : 0};
    if ((flags & kAddBos) && t.bos >= 0) sink.push(t.bos);
    EncodeScratch::Fragment *frags = nullptr;
    const size_t nf = partition(t, text.data(), text.size(), (flags & kParseSpecial) != 0, s, &frags);
    sm_status st = SM_OK;
    bool prev_special = true; // SPM: the first piece of text and text after a special token get the space
    for (size_t f = 0; f < nf && st == SM_OK; f++) {
        if (frags[f].token >= 0) {
            sink.push(frags[f].token);
            prev_special = true;
            continue;
        }
        const char *p = text.data() + frags[f].off;
        if (t.kind == TokenizerKind::Spm) {
            st = spm_encode(t, p, frags[f].len, t.add_space_prefix && prev_special, s, sink, err);
        } else {
            st = bpe_encode(t, p, frags[f].len, s, sink, err);
        }
        prev_special = false;
    }
    scratch.used = mark;
    if (st != SM_OK) return st;
    *n_out = sink.n;
    if (sink.n > cap) return err.set(SM_ERR_CAPACITY, "tokenizer: %zu tokens do not fit in %zu", sink.n, cap);
    return SM_OK;
}

// --- decode ----------------------------------------------------------------------------

namespace {

// Where a token's bytes go (render_token below): put() returns false to stop early.
struct ByteWriter {
    char *buf;
    size_t cap;
    size_t n = 0;
    bool put(const char *p, size_t k) {
        for (size_t i = 0; i < k; i++, n++)
            if (n < cap) buf[n] = p[i];
        return true;
    }
    bool put(char c) { return put(&c, 1); }
};

// Keeps the first byte (past leading blanks when skip_space) and stops there.
struct FirstByte {
    bool skip_space;
    int byte = -1;
    bool put(char c) {
        if (skip_space && (c == ' ' || c == '\n' || c == '\t')) return true;
        byte = static_cast<uint8_t>(c);
        return false;
    }
    bool put(const char *p, size_t k) {
        for (size_t i = 0; i < k; i++)
            if (!put(p[i])) return false;
        return true;
    }
};

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// llama.cpp's token_to_byte(): strtol of the two characters after "<0x".
char byte_of_piece(std::string_view p) {
    int v = 0;
    for (size_t i = 3; i < 5 && i < p.size(); i++) {
        int h = hex_value(p[i]);
        if (h < 0) break;
        v = v * 16 + h;
    }
    return static_cast<char>(v);
}

// The bytes token id stands for, in order, into w (see token_bytes()). token_bytes() and
// first_byte() share it, so the first byte one sees is exactly the other's.
template <class Sink> void render_token(const TokenizerImpl &t, int32_t id, bool render_control, Sink &w) {
    const uint8_t a = t.attrs[id];
    const std::string_view p = t.piece(id);
    if (a & (kAttrUnknown | kAttrControl)) {
        if (render_control) w.put(p.data(), p.size());
        return;
    }
    if (a & kAttrUserDefined || t.kind == TokenizerKind::None) {
        w.put(p.data(), p.size());
        return;
    }
    if (a & kAttrByte) {
        w.put(byte_of_piece(p));
        return;
    }
    if (!(a & kAttrNormal)) return; // undefined / unused: llama.cpp renders nothing
    if (t.kind == TokenizerKind::Spm) {
        for (size_t i = 0; i < p.size(); i++) {
            if (i + 2 < p.size() && p[i] == '\xE2' && p[i + 1] == '\x96' && p[i + 2] == '\x81') {
                if (!w.put(' ')) return;
                i += 2;
            } else if (!w.put(p[i])) {
                return;
            }
        }
        return;
    }
    // GPT-2 characters back to bytes (llama_decode_text()); a character outside the
    // table renders as llama.cpp renders it.
    const uint8_t *q = reinterpret_cast<const uint8_t *>(p.data());
    for (size_t i = 0; i < p.size();) {
        size_t adv;
        uint32_t cp = decode_lenient(q + i, p.size() - i, &adv);
        int b = gpt2_cpt_to_byte(cp);
        if (b >= 0) {
            if (!w.put(static_cast<char>(b))) return;
        } else {
            char u[4], hex[4];
            size_t k = encode_utf8(cp, u);
            if (!w.put("[UNK_BYTE_0x", 12)) return;
            for (size_t j = 0; j < k; j++) {
                snprintf(hex, sizeof hex, "%02x", static_cast<uint8_t>(u[j]));
                if (!w.put(hex, 2)) return;
            }
            if (!w.put(p.data(), p.size()) || !w.put(']')) return;
        }
        i += adv;
    }
}

} // namespace

size_t Tokenizer::token_bytes(int32_t id, char *buf, size_t cap, bool render_control) const {
    if (!impl_ || id < 0 || id >= impl_->n_vocab) return 0;
    ByteWriter w{buf, buf ? cap : 0};
    render_token(*impl_, id, render_control, w);
    return w.n;
}

void fill_first_bytes(const TokenizerImpl &t, int16_t *first) {
    for (int32_t id = 0; id < t.n_vocab; id++)
        for (int skip = 0; skip < 2; skip++) {
            FirstByte f{skip != 0};
            render_token(t, id, false, f);
            first[2 * id + skip] = static_cast<int16_t>(f.byte);
        }
}

int Tokenizer::first_byte(int32_t id, bool skip_space) const {
    if (!impl_ || id < 0 || id >= impl_->n_vocab) return -1;
    return impl_->first_bytes[2 * id + (skip_space ? 1 : 0)];
}

} // namespace sm::text
