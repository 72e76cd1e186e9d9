// What a model file says about its vocabulary, before a tokenizer is built from it.
// Views point into the file being loaded and live only while loading.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace sm::text {

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum TokenType : int32_t {
    kTokUndefined = 0,
    kTokNormal = 1,
    kTokUnknown = 2,
    kTokControl = 3,
    kTokUserDefined = 4,
    kTokUnused = 5,
    kTokByte = 6,
};

struct VocabSource {
    std::string_view model; // tokenizer.ggml.model: "llama", "gpt2", "" (none)
    std::string_view pre;   // tokenizer.ggml.pre ("" when absent)
    std::vector<std::string_view> tokens;
    std::vector<float> scores;            // empty when absent
    std::vector<int32_t> types;           // empty when absent (all normal)
    std::vector<std::string_view> merges; // "left right" pairs for gpt2
    int32_t bos = -1, eos = -1, unk = -1, pad = -1, eot = -1;
    int add_bos = -1, add_eos = -1, add_space_prefix = -1; // -1: not said
    std::string_view chat_template;
};

} // namespace sm::text
