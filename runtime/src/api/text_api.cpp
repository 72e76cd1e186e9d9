// sm_tokenize / sm_detokenize / sm_chat_format: the model's tokenizer, on the host thread.
#include "api/handles.h"

#include <cstring>

using namespace sm;

extern "C" {

sm_status sm_tokenize(sm_model *h, const char *text, size_t len, uint32_t flags, int32_t *tokens, size_t cap, size_t *n_tokens) {
    sm_model *m = api::model_of(h);
    if (!m) return SM_ERR_INVALID_ARGUMENT;
    if ((!text && len) || !n_tokens || (!tokens && cap))
        return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "text, tokens or n_tokens is NULL");
    if (flags & ~static_cast<uint32_t>(SM_TOKENIZE_ADD_BOS | SM_TOKENIZE_PARSE_SPECIAL))
        return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "unknown tokenize flags 0x%x", flags);
    if (!m->has_tokenizer) return m->rt->fail(SM_ERR_STATE, "the model has no tokenizer");
    if (len > static_cast<size_t>(m->desc.max_text_bytes))
        return m->rt->fail(SM_ERR_CAPACITY, "text of %zu bytes exceeds sm_model_desc.max_text_bytes (%d)", len,
                           m->desc.max_text_bytes);
    Bump scratch = Bump::over(m->tok_scratch, m->tok_scratch_bytes);
    Error err;
    uint32_t f = 0;
    if (flags & SM_TOKENIZE_ADD_BOS) f |= text::kAddBos;
    if (flags & SM_TOKENIZE_PARSE_SPECIAL) f |= text::kParseSpecial;
    sm_status st = m->tok.encode(std::string_view(text ? text : "", len), f, tokens, cap, n_tokens, scratch, err);
    return st == SM_OK ? SM_OK : m->rt->fail(err);
}

sm_status sm_detokenize(sm_model *h, const int32_t *tokens, size_t n, char *buf, size_t cap, size_t *len) {
    sm_model *m = api::model_of(h);
    if (!m) return SM_ERR_INVALID_ARGUMENT;
    if ((!tokens && n) || !len || (!buf && cap)) return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "tokens, buf or len is NULL");
    if (!m->has_tokenizer) return m->rt->fail(SM_ERR_STATE, "the model has no tokenizer");
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (tokens[i] < 0 || tokens[i] >= m->tok.n_vocab())
            return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "token %d at index %zu is outside the vocabulary of %d", tokens[i], i,
                               m->tok.n_vocab());
        char piece[512];
        size_t k = m->tok.token_bytes(tokens[i], piece, sizeof piece);
        if (k > sizeof piece) k = sizeof piece;
        if (total + k <= cap) memcpy(buf + total, piece, k);
        total += k;
    }
    *len = total;
    if (total > cap) return m->rt->fail(SM_ERR_CAPACITY, "text needs %zu bytes, the buffer has %zu", total, cap);
    return SM_OK;
}

sm_status sm_chat_format(const sm_model *h, const sm_chat_message *msgs, size_t n, int add_assistant, char *buf, size_t cap,
                         size_t *len) {
    const sm_model *m = api::model_of(h);
    if (!m) return SM_ERR_INVALID_ARGUMENT;
    if ((!msgs && n) || !len || (!buf && cap)) return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "messages, buf or len is NULL");
    if (n > 256) return m->rt->fail(SM_ERR_CAPACITY, "at most 256 messages");
    text::ChatMessage tmp[256];
    for (size_t i = 0; i < n; i++) {
        if (!msgs[i].role || !msgs[i].content)
            return m->rt->fail(SM_ERR_INVALID_ARGUMENT, "a message has a NULL role or content");
        tmp[i] = {msgs[i].role, msgs[i].content};
    }
    const text::ChatTemplate t = m->has_tokenizer ? text::detect_chat_template(m->tok.chat_template())
                                                  : text::ChatTemplate::Plain;
    std::string_view bos = m->has_tokenizer && m->tok.bos() >= 0 ? m->tok.piece(m->tok.bos()) : std::string_view();
    std::string_view eos = m->has_tokenizer && m->tok.eos() >= 0 ? m->tok.piece(m->tok.eos()) : std::string_view();
    *len = text::format_chat(t, tmp, n, add_assistant != 0, bos, eos, buf, cap);
    if (*len > cap) return m->rt->fail(SM_ERR_CAPACITY, "formatted chat needs %zu bytes, the buffer has %zu", *len, cap);
    return SM_OK;
}

} // extern "C"
