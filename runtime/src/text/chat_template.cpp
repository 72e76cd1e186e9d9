// Chat templates without a Jinja engine: recognise the family from the template text
// (llama.cpp's llm_chat_detect_template() heuristics, for the families we render) and
// render it the way llama.cpp's llm_chat_apply_template() does.
#include "text/tokenizer.h"

#include <cctype>
#include <cstring>

namespace sm::text {

ChatTemplate detect_chat_template(std::string_view tmpl) {
    auto has = [&](const char *s) { return tmpl.find(s) != std::string_view::npos; };
    if (tmpl == "chatml" || has("<|im_start|>")) return ChatTemplate::ChatML;
    if (tmpl == "llama2" || tmpl.substr(0, 7) == "mistral" || has("[INST]")) return ChatTemplate::Llama2;
    if (tmpl == "llama3" || (has("<|start_header_id|>") && has("<|end_header_id|>"))) return ChatTemplate::Llama3;
    if (tmpl == "zephyr" || has("<|user|>")) return ChatTemplate::Zephyr;
    return ChatTemplate::Plain;
}

namespace {

struct Writer {
    char *buf;
    size_t cap, n = 0;
    Writer &operator<<(std::string_view s) {
        for (char c : s) {
            if (n < cap) buf[n] = c;
            n++;
        }
        return *this;
    }
};

// llama.cpp's trim(): isspace() from both ends.
std::string_view trim(std::string_view s) {
    size_t a = 0, b = s.size();
    while (a < b && isspace(static_cast<unsigned char>(s[a]))) a++;
    while (b > a && isspace(static_cast<unsigned char>(s[b - 1]))) b--;
    return s.substr(a, b - a);
}

} // namespace

size_t format_chat(ChatTemplate t, const ChatMessage *msgs, size_t n, bool add_assistant, std::string_view bos,
                   std::string_view eos, char *out, size_t cap) {
    Writer w{out, out ? cap : 0};
    switch (t) {
    case ChatTemplate::ChatML:
        for (size_t i = 0; i < n; i++) w << "<|im_start|>" << msgs[i].role << "\n" << msgs[i].content << "<|im_end|>\n";
        if (add_assistant) w << "<|im_start|>assistant\n";
        break;
    case ChatTemplate::Llama2: {
        // llama.cpp's "llama2-sys" variant (the Llama-2-chat format): the first turn opens
        // without BOS, system text goes in <<SYS>>, a finished turn ends with EOS.
        const std::string_view end = eos.empty() ? std::string_view("</s>") : eos;
        bool inside = true;
        w << "[INST] ";
        for (size_t i = 0; i < n; i++) {
            const std::string_view role = msgs[i].role, content = msgs[i].content;
            if (!inside) {
                inside = true;
                w << "[INST] ";
            }
            if (role == "system") {
                w << "<<SYS>>\n" << content << "\n<</SYS>>\n\n";
            } else if (role == "user") {
                w << content << " [/INST]";
            } else {
                w << content << end;
                inside = false;
            }
        }
        (void)bos;
        break;
    }
    case ChatTemplate::Zephyr: {
        // llama.cpp writes "<|endoftext|>" (StableLM-Zephyr's EOS); the model's own EOS
        // text, when given, is what Zephyr-style templates write.
        const std::string_view end = eos.empty() ? std::string_view("<|endoftext|>") : eos;
        for (size_t i = 0; i < n; i++) w << "<|" << msgs[i].role << "|>\n" << msgs[i].content << end << "\n";
        if (add_assistant) w << "<|assistant|>\n";
        break;
    }
    case ChatTemplate::Llama3:
        for (size_t i = 0; i < n; i++)
            w << "<|start_header_id|>" << msgs[i].role << "<|end_header_id|>\n\n" << trim(msgs[i].content) << "<|eot_id|>";
        if (add_assistant) w << "<|start_header_id|>assistant<|end_header_id|>\n\n";
        break;
    case ChatTemplate::Plain:
        // No template: the contents one per line, for models that just continue text.
        for (size_t i = 0; i < n; i++) w << msgs[i].content << "\n";
        break;
    }
    return w.n;
}

} // namespace sm::text
