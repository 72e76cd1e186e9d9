// What to submit for each user turn. The session keeps its KV cache between turns, so a
// turn submits only the new text:
//   chat mode   the conversation is kept as messages; the model's template (sm_chat_format)
//               is applied to all of them and only the part past the previous turn's
//               formatting is tokenized (llama.cpp's simple-chat scheme);
//   story mode  for models without a template (TinyStories): the user's text opens a new
//               story (BOS first, as in training) or, if the previous one was cut short
//               (Esc, max tokens), continues it.
// Every buffer is sized once in init(); turns never allocate.
#pragma once
#include "smallmind/smallmind.h"

#include <cstddef>
#include <cstdint>
#include <vector>

class Conversation {
public:
    enum class Mode { Story, Chat };

    // max_text_bytes: the model's sm_model_desc.max_text_bytes (longest text one tokenize
    // call accepts). adds_bos: whether the model wants BOS at the start of a prompt.
    void init(sm_model *model, Mode mode, int max_text_bytes, bool adds_bos);
    Mode mode() const { return mode_; }

    // Builds the tokens for a new user message; session_fresh: nothing was submitted since
    // the last reset (BOS goes first). On failure sm_last_error says why.
    sm_status begin_turn(const char *text, size_t len, bool session_fresh);
    const int32_t *tokens() const { return tokens_.data(); }
    size_t n_tokens() const { return n_tokens_; }
    // In story mode, whether the user's text goes right after the previous output.
    bool continues_story() const { return continues_; }

    void append_reply(const char *text, size_t len); // streamed assistant text
    void end_turn(sm_finish_reason why);
    void clear(); // after sm_session_reset

private:
    struct Message {
        const char *role;
        uint32_t start, len;
    };
    bool push_message(const char *role, const char *text, size_t len);
    void drop_oldest();
    size_t format(size_t n_messages, bool add_assistant); // into fmt_, returns the length
    sm_status tokenize(const char *text, size_t len, bool bos);

    sm_model *model_ = nullptr;
    Mode mode_ = Mode::Story;
    bool adds_bos_ = true;
    bool story_open_ = false; // the last story stopped before its end (continue it)
    bool continues_ = false;
    bool in_reply_ = false;
    std::vector<char> pool_; // message contents, each NUL-ended (sm_chat_message)
    size_t pool_used_ = 0;
    std::vector<Message> msgs_; // capacity fixed at init
    size_t n_msgs_ = 0;
    std::vector<sm_chat_message> view_; // msgs_ as the C API wants them
    std::vector<char> fmt_;
    std::vector<int32_t> tokens_;
    size_t n_tokens_ = 0;
    int max_text_ = 0;
};
