// Chat templates: detection from tokenizer.chat_template and rendering as llama.cpp's
// llm_chat_apply_template() renders the same conversation.
#include <catch2/catch.hpp>

#include "text/tokenizer.h"

#include <cstring>
#include <string>

using namespace sm::text;

namespace {

const ChatMessage kChat[] = {
    {"system", "You are a helpful assistant"},
    {"user", "Hello"},
    {"assistant", "Hi there"},
    {"user", "Who are you"},
    {"assistant", "   I am an assistant   "},
    {"user", "Another question"},
};
const size_t kN = sizeof kChat / sizeof kChat[0];

std::string render(ChatTemplate t, bool add_assistant, const char *eos = "") {
    size_t n = format_chat(t, kChat, kN, add_assistant, "", eos, nullptr, 0);
    std::string s(n, '\0');
    CHECK(format_chat(t, kChat, kN, add_assistant, "", eos, &s[0], s.size()) == n);
    return s;
}

} // namespace

TEST_CASE("chat template: detection", "[text]") {
    CHECK(detect_chat_template("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
                               "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}") == ChatTemplate::ChatML);
    CHECK(detect_chat_template("{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}") == ChatTemplate::Llama2);
    CHECK(detect_chat_template("{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' "
                               "+ message['content'] | trim + '<|eot_id|>' %}") == ChatTemplate::Llama3);
    CHECK(detect_chat_template("{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\\n' + "
                               "message['content'] + eos_token }}{% endif %}{% endfor %}") == ChatTemplate::Zephyr);
    CHECK(detect_chat_template("") == ChatTemplate::Plain);
    CHECK(detect_chat_template("{{ messages }}") == ChatTemplate::Plain);
}

TEST_CASE("chat template: rendering like llama.cpp", "[text]") {
    CHECK(render(ChatTemplate::ChatML, true) ==
          "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
          "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"
          "<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n"
          "<|im_start|>assistant\n");
    CHECK(render(ChatTemplate::Llama2, true) ==
          "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] Who are you "
          "[/INST]   I am an assistant   </s>[INST] Another question [/INST]");
    CHECK(render(ChatTemplate::Llama3, true) ==
          "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"
          "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>"
          "\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"
          "<|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user"
          "<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    CHECK(render(ChatTemplate::Zephyr, true) ==
          "<|system|>\nYou are a helpful assistant<|endoftext|>\n<|user|>\nHello<|endoftext|>\n<|assistant|>\n"
          "Hi there<|endoftext|>\n<|user|>\nWho are you<|endoftext|>\n<|assistant|>\n   I am an assistant   "
          "<|endoftext|>\n<|user|>\nAnother question<|endoftext|>\n<|assistant|>\n");
    CHECK(render(ChatTemplate::Zephyr, false, "</s>").find("Hello</s>\n") != std::string::npos);
    CHECK(render(ChatTemplate::ChatML, false).size() + strlen("<|im_start|>assistant\n") ==
          render(ChatTemplate::ChatML, true).size());
    CHECK(render(ChatTemplate::Plain, true) ==
          "You are a helpful assistant\nHello\nHi there\nWho are you\n   I am an assistant   \nAnother question\n");
    // A short buffer gets a prefix; the return value is the full length.
    char buf[10];
    size_t n = format_chat(ChatTemplate::ChatML, kChat, kN, true, "", "", buf, sizeof buf);
    CHECK(n == render(ChatTemplate::ChatML, true).size());
    CHECK(std::string(buf, 10) == "<|im_start");
}
