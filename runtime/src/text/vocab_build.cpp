// Building a tokenizer's tables from a VocabSource into arena memory, following what
// llama_vocab::impl::load() derives from the same GGUF metadata: defaults per model
// type, token attributes (with llama.cpp's name-based fix-ups), the special-token list,
// end-of-generation ids, byte fallback tokens and, for BPE, interned merges.
#include "text/tokenizer_impl.h"
#include "text/unicode.h"

#include <algorithm>
#include <cstdio>
#include <new>

namespace sm::text {

namespace {

size_t pow2_at_least(size_t n) {
    size_t p = 16;
    while (p < n) p <<= 1;
    return p;
}

// Names llama.cpp recognises as end-of-turn / end-of-generation tokens (and forces to
// CONTROL). The EOT list picks tokenizer.ggml.eot_token_id when the file has none.
constexpr std::string_view kEotNames[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",         "<|endoftext|>",      "<|end_of_text|>",
    "<EOT>",      "_<EOT>",     "[EOT]",   "<｜end▁of▁sentence｜>", "<end_of_utterance>",
};
constexpr std::string_view kEogNames[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>",   "<|endoftext|>",
    "<|eom_id|>", "<EOT>",      "_<EOT>",  "[EOT]",      "[EOS]",    "<|end_of_text|>", "<end_of_utterance>",
};
// gpt-oss: rendered like text (llama.cpp sets them USER_DEFINED).
constexpr std::string_view kUserDefinedNames[] = {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"};

// Every name above is at least 5 bytes and starts with '<', '[' or '_' (checked below):
// nearly every piece of a vocabulary fails that at once, instead of being compared with
// each name (a model load matches all its pieces against these lists three times).
constexpr bool may_be_name(std::string_view s) { return s.size() >= 5 && (s[0] == '<' || s[0] == '[' || s[0] == '_'); }
template <size_t N> constexpr bool all_may_be_names(const std::string_view (&list)[N]) {
    for (std::string_view x : list)
        if (!may_be_name(x)) return false;
    return true;
}
static_assert(all_may_be_names(kEotNames) && all_may_be_names(kEogNames) && all_may_be_names(kUserDefinedNames),
              "a name the may_be_name() filter would miss");

template <size_t N> bool in_list(std::string_view s, const std::string_view (&list)[N]) {
    if (!may_be_name(s)) return false;
    for (std::string_view x : list)
        if (s == x) return true;
    return false;
}

std::string_view merge_left(std::string_view line, size_t pos) { return line.substr(0, pos); }
std::string_view merge_right(std::string_view line, size_t pos) { return line.substr(pos + 1); }

// Merge sides that are not tokens get string ids n_vocab, n_vocab + 1, ...; they only
// matter while building (views into the VocabSource).
struct ExtraSlot {
    const char *p;
    uint32_t len;
    int32_t id; // -1 empty
};

struct Extras {
    ExtraSlot *slots = nullptr;
    uint32_t mask = 0;
    int32_t next_id = 0;

    int32_t find2(std::string_view a, std::string_view b) const {
        if (!slots) return -1;
        uint32_t i = static_cast<uint32_t>(hash_final(hash_more(hash_more(kHashSeed, a.data(), a.size()), b.data(), b.size()))) &
                     mask;
        for (;; i = (i + 1) & mask) {
            const ExtraSlot &s = slots[i];
            if (s.id < 0) return -1;
            if (s.len == a.size() + b.size() && memcmp(s.p, a.data(), a.size()) == 0 &&
                memcmp(s.p + a.size(), b.data(), b.size()) == 0)
                return s.id;
        }
    }
    int32_t insert(std::string_view a) {
        uint32_t i = static_cast<uint32_t>(hash_bytes(a.data(), a.size())) & mask;
        for (;; i = (i + 1) & mask) {
            ExtraSlot &s = slots[i];
            if (s.id < 0) {
                s = ExtraSlot{a.data(), static_cast<uint32_t>(a.size()), next_id++};
                return s.id;
            }
            if (s.len == a.size() && memcmp(s.p, a.data(), a.size()) == 0) return s.id;
        }
    }
};

// Vocabulary lookup of a+b without concatenating.
int32_t find2(const TokenizerImpl &t, std::string_view a, std::string_view b) {
    size_t n = a.size() + b.size();
    if (n > static_cast<size_t>(t.max_piece_len)) return -1;
    uint32_t i = static_cast<uint32_t>(hash_final(hash_more(hash_more(kHashSeed, a.data(), a.size()), b.data(), b.size()))) &
                 t.slot_mask;
    for (;; i = (i + 1) & t.slot_mask) {
        int32_t id = t.slots[i];
        if (id < 0) return -1;
        std::string_view p = t.piece(id);
        if (p.size() == n && memcmp(p.data(), a.data(), a.size()) == 0 && memcmp(p.data() + a.size(), b.data(), b.size()) == 0)
            return id;
    }
}

#define SM_TAKE(ptr, T, count)                                                                                                  \
    do {                                                                                                                        \
        ptr = arena.take_n<T>(count, alignof(T) < 16 ? 16 : alignof(T));                                                        \
        if (!ptr) return err.set(SM_ERR_CAPACITY, "tokenizer: arena too small (%zu of %zu bytes used)", arena.used, arena.cap); \
    } while (0)

sm_status build_bpe_merges(const VocabSource &v, Bump &arena, TokenizerImpl &t, Error &err) {
    const int32_t n = t.n_vocab;
    // Merge sides that are not tokens (none in sane vocabularies), counted with repeats.
    size_t extra_upper = 0;
    for (std::string_view line : v.merges) {
        size_t pos = line.size() > 1 ? line.find(' ', 1) : std::string_view::npos;
        if (pos == std::string_view::npos) continue;
        if (t.find(line.data(), pos) < 0) extra_upper++;
        std::string_view r = merge_right(line, pos);
        if (t.find(r.data(), r.size()) < 0) extra_upper++;
    }
    Extras extras;
    extras.next_id = n;
    if (extra_upper > 0) {
        size_t cap = pow2_at_least(2 * extra_upper);
        SM_TAKE(extras.slots, ExtraSlot, cap);
        for (size_t i = 0; i < cap; i++) extras.slots[i].id = -1;
        extras.mask = static_cast<uint32_t>(cap - 1);
    }
    auto string_id = [&](std::string_view s, bool add) -> int32_t {
        int32_t id = t.find(s.data(), s.size());
        if (id >= 0) return id;
        if (!extras.slots) return -1;
        return add ? extras.insert(s) : extras.find2(s, std::string_view("", 0));
    };
    for (std::string_view line : v.merges) {
        size_t pos = line.size() > 1 ? line.find(' ', 1) : std::string_view::npos;
        if (pos == std::string_view::npos) continue;
        string_id(merge_left(line, pos), true);
        string_id(merge_right(line, pos), true);
    }

    size_t cap = pow2_at_least(v.merges.size() + v.merges.size() / 2 + 1);
    MergeSlot *slots;
    SM_TAKE(slots, MergeSlot, cap);
    memset(slots, 0, cap * sizeof(MergeSlot));
    const uint32_t mask = static_cast<uint32_t>(cap - 1);
    for (size_t r = 0; r < v.merges.size(); r++) {
        std::string_view line = v.merges[r];
        size_t pos = line.size() > 1 ? line.find(' ', 1) : std::string_view::npos;
        if (pos == std::string_view::npos) continue; // llama.cpp stores ("", ""), which never matches
        std::string_view a = merge_left(line, pos), b = merge_right(line, pos);
        if (b.empty()) continue;
        int32_t ia = string_id(a, false), ib = string_id(b, false);
        uint64_t key = ((static_cast<uint64_t>(static_cast<uint32_t>(ia)) << 32) | static_cast<uint32_t>(ib)) + 1;
        uint32_t i = static_cast<uint32_t>(hash_u64(key)) & mask;
        while (slots[i].key != 0 && slots[i].key != key) i = (i + 1) & mask;
        if (slots[i].key == key) continue; // a repeated pair keeps its first rank, as in llama.cpp
        int32_t result = find2(t, a, b);
        if (result < 0) result = extras.find2(a, b);
        slots[i] = MergeSlot{key, static_cast<int32_t>(r), result};
    }
    t.merges = slots;
    t.merge_mask = mask;

    for (int b = 0; b < 256; b++) {
        char ch[4];
        size_t k = encode_utf8(gpt2_byte_to_cpt(static_cast<uint8_t>(b)), ch);
        t.byte_string[b] = string_id(std::string_view(ch, k), false);
        char raw = static_cast<char>(b);
        t.byte_token[b] = t.find(&raw, 1);
    }
    return SM_OK;
}

} // namespace

size_t build_bytes_upper_bound(const VocabSource &v) {
    const size_t n = v.tokens.size(), nm = v.merges.size();
    size_t bytes = 4096 + sizeof(TokenizerImpl) + v.chat_template.size();
    for (std::string_view s : v.tokens) bytes += s.empty() ? 24 : s.size();
    bytes += (n + 1) * 4 + n * 4 + n + 4 * pow2_at_least(2 * n + 1) + 8 * n + 4 * n +
             2; // offs, scores, attrs, slots, lists, first bytes
    bytes += sizeof(MergeSlot) * pow2_at_least(nm + nm / 2 + 1) + sizeof(ExtraSlot) * pow2_at_least(4 * nm + 1);
    if (const PreSpec *s = find_pre_spec(v.pre)) bytes += pre_region_bytes(*s);
    return bytes + 16 * 64; // alignment of each take
}

namespace {

// The tokenizer kind and (BPE) pre-tokenizer the vocabulary asks for, and its sizes checked.
sm_status check_vocab(const VocabSource &v, TokenizerKind *kind, const PreSpec **spec, Error &err) {
    *spec = nullptr;
    if (v.model == "llama") *kind = TokenizerKind::Spm;
    else if (v.model == "gpt2") *kind = TokenizerKind::Bpe;
    else if (v.model.empty() || v.model == "none" || v.model == "no_vocab") *kind = TokenizerKind::None;
    else
        return err.set(SM_ERR_UNSUPPORTED, "tokenizer.ggml.model '%.*s' is not supported (only 'llama' and 'gpt2')",
                       static_cast<int>(v.model.size()), v.model.data());
    if (*kind == TokenizerKind::Bpe) {
        *spec = find_pre_spec(v.pre);
        if (!*spec)
            return err.set(SM_ERR_UNSUPPORTED, "tokenizer.ggml.pre '%.*s' is not a supported pre-tokenizer",
                           static_cast<int>(v.pre.size()), v.pre.data());
        if (v.merges.empty()) return err.set(SM_ERR_FORMAT, "gpt2 tokenizer without tokenizer.ggml.merges");
    }
    const size_t n = v.tokens.size();
    if (*kind != TokenizerKind::None && n == 0) return err.set(SM_ERR_FORMAT, "tokenizer has no tokens");
    if (n >= (1u << 30)) return err.set(SM_ERR_FORMAT, "tokenizer has too many tokens (%zu)", n);
    if ((!v.scores.empty() && v.scores.size() != n) || (!v.types.empty() && v.types.size() != n))
        return err.set(SM_ERR_FORMAT, "tokenizer scores/types do not match its %zu tokens", n);
    return SM_OK;
}

// Every piece back to back in one blob. llama.cpp renames empty pieces "[EMPTY_<id>]"
// (they would match anywhere).
sm_status place_pieces(const VocabSource &v, Bump &arena, TokenizerImpl &t, Error &err) {
    const size_t n = v.tokens.size();
    size_t blob_bytes = 0;
    for (size_t i = 0; i < n; i++) blob_bytes += v.tokens[i].empty() ? 24 : v.tokens[i].size();
    if (blob_bytes >= UINT32_MAX) return err.set(SM_ERR_FORMAT, "tokenizer pieces are too large");
    char *blob;
    uint32_t *offs;
    SM_TAKE(blob, char, blob_bytes + 1);
    SM_TAKE(offs, uint32_t, n + 1);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        offs[i] = static_cast<uint32_t>(w);
        if (v.tokens[i].empty()) {
            w += static_cast<size_t>(snprintf(blob + w, 25, "[EMPTY_%zu]", i));
        } else {
            memcpy(blob + w, v.tokens[i].data(), v.tokens[i].size());
            w += v.tokens[i].size();
        }
        t.max_piece_len = std::max<int32_t>(t.max_piece_len, static_cast<int32_t>(w - offs[i]));
    }
    offs[n] = static_cast<uint32_t>(w);
    t.blob = blob;
    t.offs = offs;
    return SM_OK;
}

// piece -> id. A repeated piece maps to its last id, as in llama.cpp before it began
// rejecting such files.
sm_status index_pieces(Bump &arena, TokenizerImpl &t, Error &err) {
    const size_t n = static_cast<size_t>(t.n_vocab);
    size_t cap = pow2_at_least(2 * n + 1);
    int32_t *slots;
    SM_TAKE(slots, int32_t, cap);
    for (size_t i = 0; i < cap; i++) slots[i] = -1;
    t.slots = slots;
    t.slot_mask = static_cast<uint32_t>(cap - 1);
    for (size_t id = 0; id < n; id++) {
        std::string_view p = t.piece(static_cast<int32_t>(id));
        uint32_t i = static_cast<uint32_t>(hash_bytes(p.data(), p.size())) & t.slot_mask;
        for (;; i = (i + 1) & t.slot_mask) {
            if (slots[i] < 0 || t.piece(slots[i]) == p) {
                slots[i] = static_cast<int32_t>(id);
                break;
            }
        }
    }
    return SM_OK;
}

// Scores, and the GGUF token types as attribute bits; *attrs is left writable for the
// name-based fix-ups that follow.
sm_status place_scores_and_attrs(const VocabSource &v, Bump &arena, TokenizerImpl &t, uint8_t **attrs_out, Error &err) {
    const size_t n = static_cast<size_t>(t.n_vocab);
    float *scores;
    uint8_t *attrs;
    SM_TAKE(scores, float, n + 1);
    SM_TAKE(attrs, uint8_t, n + 1);
    for (size_t i = 0; i < n; i++) {
        scores[i] = v.scores.empty() ? 0.0f : v.scores[i];
        int32_t type = v.types.empty() ? kTokNormal : v.types[i];
        switch (type) {
        case kTokNormal: attrs[i] = kAttrNormal; break;
        case kTokUnknown: attrs[i] = kAttrUnknown; break;
        case kTokControl: attrs[i] = kAttrControl; break;
        case kTokUserDefined: attrs[i] = kAttrUserDefined; break;
        case kTokUnused: attrs[i] = kAttrUnused; break;
        case kTokByte: attrs[i] = kAttrByte; break;
        default: attrs[i] = 0; break; // undefined
        }
    }
    t.scores = scores;
    t.attrs = attrs;
    *attrs_out = attrs;
    return SM_OK;
}

// Special ids: llama.cpp's defaults per model type; out-of-range ids mean "none".
void resolve_special_ids(const VocabSource &v, const PreSpec *spec, TokenizerImpl &t) {
    const size_t n = static_cast<size_t>(t.n_vocab);
    auto valid = [&](int32_t id) { return id >= 0 && static_cast<size_t>(id) < n ? id : -1; };
    const bool spm = t.kind == TokenizerKind::Spm, bpe = t.kind == TokenizerKind::Bpe;
    t.bos = v.bos >= 0 ? valid(v.bos) : valid(spm ? 1 : bpe ? 11 : -1);
    t.eos = v.eos >= 0 ? valid(v.eos) : valid(spm ? 2 : bpe ? 11 : -1);
    t.unk = v.unk >= 0 ? valid(v.unk) : valid(spm ? 0 : -1);
    t.pad = valid(v.pad);
    t.eot = valid(v.eot);
    for (size_t i = 0; i < n && t.eot < 0; i++)
        if (in_list(t.piece(static_cast<int32_t>(i)), kEotNames)) t.eot = static_cast<int32_t>(i);
    for (size_t i = 0; i < n && t.eom < 0; i++)
        if (t.piece(static_cast<int32_t>(i)) == "<|eom_id|>") t.eom = static_cast<int32_t>(i);
    t.add_bos = v.add_bos >= 0 ? v.add_bos != 0 : (spm || (spec && spec->add_bos));
    if (t.bos < 0) t.add_bos = false;
    t.add_space_prefix = v.add_space_prefix >= 0 ? v.add_space_prefix != 0 : spm;
    t.ignore_merges = spec && spec->ignore_merges;
}

// Name-based attribute fix-ups, then the end-of-generation ids (ascending, unique).
sm_status mark_end_of_generation(Bump &arena, TokenizerImpl &t, uint8_t *attrs, Error &err) {
    const size_t n = static_cast<size_t>(t.n_vocab);
    size_t n_eog = 0;
    for (int32_t id : {t.eos, t.eot, t.eom})
        if (id >= 0) n_eog++;
    if (t.eot >= 0) attrs[t.eot] |= kAttrControl;
    if (t.eom >= 0) attrs[t.eom] |= kAttrControl;
    for (size_t i = 0; i < n; i++) {
        std::string_view p = t.piece(static_cast<int32_t>(i));
        if (in_list(p, kEogNames)) {
            attrs[i] |= kAttrControl;
            n_eog++;
        }
        if (in_list(p, kUserDefinedNames)) attrs[i] = kAttrUserDefined;
    }
    int32_t *eog;
    SM_TAKE(eog, int32_t, n_eog + 1);
    size_t k = 0;
    for (int32_t id : {t.eos, t.eot, t.eom})
        if (id >= 0) eog[k++] = id;
    for (size_t i = 0; i < n; i++)
        if (in_list(t.piece(static_cast<int32_t>(i)), kEogNames)) eog[k++] = static_cast<int32_t>(i);
    std::sort(eog, eog + k);
    t.n_eog = static_cast<int32_t>(std::unique(eog, eog + k) - eog);
    t.eog = eog;
    return SM_OK;
}

// Tokens matched in the text before tokenizing, longest first (ties by id, where
// llama.cpp's unstable sort leaves the order unspecified).
sm_status list_special_tokens(Bump &arena, TokenizerImpl &t, Error &err) {
    const size_t n = static_cast<size_t>(t.n_vocab);
    const uint8_t *attrs = t.attrs;
    size_t n_special = 0;
    for (size_t i = 0; i < n; i++)
        if (attrs[i] & (kAttrControl | kAttrUserDefined | kAttrUnknown)) n_special++;
    int32_t *special;
    SM_TAKE(special, int32_t, n_special + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (attrs[i] & (kAttrControl | kAttrUserDefined | kAttrUnknown)) special[k++] = static_cast<int32_t>(i);
    std::stable_sort(special, special + k, [&](int32_t a, int32_t b) { return t.piece(a).size() > t.piece(b).size(); });
    t.special = special;
    t.n_special = static_cast<int32_t>(k);
    t.min_special_len = 1 << 30;
    for (size_t i = 0; i < k; i++) {
        t.min_special_len = std::min<int32_t>(t.min_special_len, static_cast<int32_t>(t.piece(special[i]).size()));
        if (attrs[special[i]] & kAttrUserDefined) t.n_user_defined++;
    }
    if (k == 0) t.min_special_len = 1;
    return SM_OK;
}

// SentencePiece: which bytes a U+2581 (space) may follow inside a piece, and each byte's
// fallback token (<0xXX>, else the single-byte piece).
void spm_byte_tables(TokenizerImpl &t) {
    for (int32_t i = 0; i < t.n_vocab; i++) {
        std::string_view p = t.piece(i);
        for (size_t at = p.find("\xE2\x96\x81", 1); at != std::string_view::npos; at = p.find("\xE2\x96\x81", at + 1))
            t.joins_space[static_cast<uint8_t>(p[at - 1])] = true;
    }
    for (int b = 0; b < 256; b++) {
        char hex[8];
        snprintf(hex, sizeof hex, "<0x%02X>", b);
        int32_t id = t.find(hex, 6);
        if (id < 0) {
            char raw = static_cast<char>(b);
            id = t.find(&raw, 1);
        }
        t.byte_token[b] = id;
    }
}

} // namespace

sm_status build_tables(const VocabSource &v, Bump &arena, TokenizerImpl **out, Error &err) {
    *out = nullptr;
    TokenizerKind kind = TokenizerKind::None;
    const PreSpec *spec = nullptr;
    SM_TRY(check_vocab(v, &kind, &spec, err));

    TokenizerImpl *tp;
    SM_TAKE(tp, TokenizerImpl, 1);
    new (tp) TokenizerImpl();
    TokenizerImpl &t = *tp;
    t.kind = kind;
    t.n_vocab = static_cast<int32_t>(v.tokens.size());

    SM_TRY(place_pieces(v, arena, t, err));
    SM_TRY(index_pieces(arena, t, err));
    uint8_t *attrs = nullptr;
    SM_TRY(place_scores_and_attrs(v, arena, t, &attrs, err));
    resolve_special_ids(v, spec, t);
    SM_TRY(mark_end_of_generation(arena, t, attrs, err));
    SM_TRY(list_special_tokens(arena, t, err));

    for (int b = 0; b < 256; b++) {
        t.byte_token[b] = -1;
        t.byte_string[b] = -1;
    }
    if (kind == TokenizerKind::Spm) spm_byte_tables(t);
    if (kind == TokenizerKind::Bpe) SM_TRY(build_bpe_merges(v, arena, t, err));
    int16_t *first;
    SM_TAKE(first, int16_t, 2 * static_cast<size_t>(t.n_vocab) + 1);
    fill_first_bytes(t, first);
    t.first_bytes = first;

    if (!v.chat_template.empty()) {
        char *tmpl;
        SM_TAKE(tmpl, char, v.chat_template.size());
        memcpy(tmpl, v.chat_template.data(), v.chat_template.size());
        t.chat_template = std::string_view(tmpl, v.chat_template.size());
    }

    if (spec) {
        size_t region = pre_region_bytes(*spec);
        uint8_t *mem;
        SM_TAKE(mem, uint8_t, region);
        SM_TRY(t.pre.compile(*spec, mem, region, err));
    }
    *out = &t;
    return SM_OK;
}

} // namespace sm::text
