#include "conversation.h"

#include <cstring>

namespace {
constexpr size_t kPoolBytes = 64 << 10; // conversation text kept for re-formatting
constexpr size_t kMaxMessages = 128;
} // namespace

void Conversation::init(sm_model *model, Mode mode, int max_text_bytes, bool adds_bos) {
    model_ = model;
    mode_ = mode;
    adds_bos_ = adds_bos;
    max_text_ = max_text_bytes;
    pool_.assign(kPoolBytes, 0);
    msgs_.resize(kMaxMessages);
    view_.resize(kMaxMessages);
    // Role markers add a few dozen bytes per message on top of the contents.
    fmt_.assign(kPoolBytes + kMaxMessages * 64, 0);
    // One token per byte at most, plus BOS.
    tokens_.assign(static_cast<size_t>(max_text_bytes) + 1, 0);
    clear();
}

void Conversation::clear() {
    pool_used_ = 0;
    n_msgs_ = 0;
    n_tokens_ = 0;
    story_open_ = continues_ = in_reply_ = false;
}

void Conversation::drop_oldest() {
    if (n_msgs_ == 0) return;
    const uint32_t cut = msgs_[1 < n_msgs_ ? 1 : 0].start;
    const size_t keep = n_msgs_ > 1 ? pool_used_ - cut : 0;
    memmove(pool_.data(), pool_.data() + cut, keep);
    pool_used_ = keep;
    for (size_t i = 1; i < n_msgs_; i++) {
        msgs_[i - 1] = msgs_[i];
        msgs_[i - 1].start -= cut;
    }
    n_msgs_--;
}

bool Conversation::push_message(const char *role, const char *text, size_t len) {
    // Older turns make room: the KV ring forgets them anyway (sinks + window).
    while (n_msgs_ > 1 && (n_msgs_ == kMaxMessages || pool_used_ + len + 1 > pool_.size())) drop_oldest();
    if (n_msgs_ == kMaxMessages || pool_used_ + len + 1 > pool_.size()) return false;
    msgs_[n_msgs_] = {role, static_cast<uint32_t>(pool_used_), static_cast<uint32_t>(len)};
    memcpy(pool_.data() + pool_used_, text, len);
    pool_used_ += len;
    pool_[pool_used_++] = 0;
    n_msgs_++;
    return true;
}

size_t Conversation::format(size_t n, bool add_assistant) {
    for (size_t i = 0; i < n; i++) view_[i] = {msgs_[i].role, pool_.data() + msgs_[i].start};
    size_t len = 0;
    if (sm_chat_format(model_, view_.data(), n, add_assistant ? 1 : 0, fmt_.data(), fmt_.size(), &len) != SM_OK) return SIZE_MAX;
    return len;
}

sm_status Conversation::tokenize(const char *text, size_t len, bool bos) {
    uint32_t flags = SM_TOKENIZE_PARSE_SPECIAL; // template markers are control tokens
    if (bos && adds_bos_) flags |= SM_TOKENIZE_ADD_BOS;
    n_tokens_ = 0;
    return sm_tokenize(model_, text, len, flags, tokens_.data(), tokens_.size(), &n_tokens_);
}

sm_status Conversation::begin_turn(const char *text, size_t len, bool session_fresh) {
    in_reply_ = false;
    if (mode_ == Mode::Story) {
        continues_ = story_open_ && !session_fresh;
        // User text is never parsed for control tokens in story mode: plain text only.
        uint32_t flags = 0;
        if (!continues_) flags |= SM_TOKENIZE_ADD_BOS; // a new story, as the model was trained
        n_tokens_ = 0;
        const sm_status st = sm_tokenize(model_, text, len, flags, tokens_.data(), tokens_.size(), &n_tokens_);
        if (st == SM_OK) in_reply_ = true;
        return st;
    }

    // Chat: format(previous messages) is what the KV cache already holds (as text);
    // format(previous + user, assistant prefix) minus that prefix is the new part.
    if (!push_message("user", text, len)) return SM_ERR_CAPACITY;
    const size_t prev = n_msgs_ > 1 ? format(n_msgs_ - 1, false) : 0;
    const size_t full = format(n_msgs_, true);
    if (prev == SIZE_MAX || full == SIZE_MAX || full < prev) return SM_ERR_CAPACITY;
    const size_t n = full - prev;
    if (n > static_cast<size_t>(max_text_)) return SM_ERR_CAPACITY;
    const sm_status st = tokenize(fmt_.data() + prev, n, session_fresh);
    if (st != SM_OK) return st;
    // The reply is recorded as it streams.
    if (!push_message("assistant", "", 0)) return SM_ERR_CAPACITY;
    in_reply_ = true;
    return SM_OK;
}

void Conversation::append_reply(const char *text, size_t len) {
    if (!in_reply_ || mode_ != Mode::Chat || n_msgs_ == 0) return;
    Message &m = msgs_[n_msgs_ - 1];
    // A reply longer than the pool is cut here (the screen still shows all of it).
    if (pool_used_ + len > pool_.size()) return;
    memcpy(pool_.data() + pool_used_ - 1, text, len); // over the NUL, then a new one
    pool_used_ += len;
    pool_[pool_used_ - 1] = 0;
    m.len += static_cast<uint32_t>(len);
}

void Conversation::end_turn(sm_finish_reason why) {
    if (!in_reply_) return;
    in_reply_ = false;
    // A story that hit EOS is finished; anything else (Esc, max tokens) can be continued.
    story_open_ = why != SM_FINISH_EOS;
}
