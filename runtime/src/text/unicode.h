// UTF-8 helpers shared by the tokenizers, written to behave exactly like llama.cpp's
// unicode.cpp where that matters for token ids:
//  - utf8_seq_len(): the length SentencePiece (SPM) assumes from a lead byte alone;
//  - decode_lenient(): how byte-level BPE reads text. Overlong forms and surrogates are
//    accepted as their code point (llama.cpp does the same); a byte that does not start
//    a complete sequence becomes U+FFFD and only that byte is consumed. Sequences that
//    would decode above U+10FFFF make llama.cpp throw; here they are invalid too (U+FFFD
//    for the lead byte), so no input can fail.
//  - the GPT-2 byte <-> character table (bytes_to_unicode() of the GPT-2 release).
#pragma once
#include <cstddef>
#include <cstdint>

namespace sm::text {

constexpr uint32_t kReplacementChar = 0xFFFD;

// 1 for ASCII and stray continuation bytes, 2/3/4 for lead bytes (by the high nibble).
inline size_t utf8_seq_len(uint8_t lead) {
    static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return kLen[lead >> 4];
}

// Decodes one code point at p (n > 0 bytes available); *adv gets the bytes consumed.
uint32_t decode_lenient(const uint8_t *p, size_t n, size_t *adv);

// Encodes cp (<= 0x10FFFF, surrogates allowed) into out (4 bytes room); returns length.
size_t encode_utf8(uint32_t cp, char *out);

// GPT-2's reversible byte -> printable character mapping, and its inverse (-1 when the
// code point is not one of the 256 characters).
uint32_t gpt2_byte_to_cpt(uint8_t b);
int gpt2_cpt_to_byte(uint32_t cp);

} // namespace sm::text
