// SentencePiece BPE (tokenizer.ggml.model = "llama"), as llama.cpp's llm_tokenizer_spm:
// spaces become U+2581, the text is cut into UTF-8 characters (by lead byte alone), then
// adjacent symbols whose concatenation is a token merge, highest token score first (ties:
// leftmost). Symbols that end up not being tokens fall back to byte tokens <0xNN>.
#include "text/merge_heap.h"
#include "text/unicode.h"

namespace sm::text {

sm_status spm_encode(const TokenizerImpl &t, const char *text, size_t n, bool prefix_space, EncodeScratch &s, TokenSink &sink,
                     Error &err) {
    static constexpr char kSpace[3] = {'\xE2', '\x96', '\x81'}; // U+2581
    // 1. Escape: optional leading space, every ' ' as U+2581.
    char *e = s.text_a;
    size_t m = 0;
    if (prefix_space) {
        memcpy(e, kSpace, 3);
        m = 3;
    }
    for (size_t i = 0; i < n; i++) {
        if (text[i] == ' ') {
            memcpy(e + m, kSpace, 3);
            m += 3;
        } else {
            e[m++] = text[i];
        }
    }
    if (m == 0) return SM_OK;

    // 2. One symbol per UTF-8 character; a truncated sequence keeps what is there.
    MergeSymbol *sym = s.sym;
    int32_t count = 0;
    for (size_t off = 0; off < m;) {
        if (static_cast<size_t>(count) >= s.sym_cap) // the layout's bound is wrong: never write past it
            return err.set(SM_ERR_INTERNAL, "tokenizer: more SPM symbols than planned (%zu)", s.sym_cap);
        size_t len = utf8_seq_len(static_cast<uint8_t>(e[off]));
        if (len > m - off) len = m - off;
        MergeSymbol &y = sym[count];
        y.prev = count - 1;
        y.next = count + 1;
        y.off = static_cast<uint32_t>(off);
        y.len = static_cast<uint32_t>(len);
        y.heap_pos = -1;
        off += len;
        count++;
    }
    sym[count - 1].next = -1;

    // 3. Merge by score, segment by segment: a segment starts at a "▁" that no token can
    //    join to the character before it (see TokenizerImpl::joins_space). No pair
    //    crosses a segment boundary, so merging each segment on its own makes the same
    //    merges in the same relative order as one loop over everything - with small heaps.
    auto before = [sym](int32_t a, int32_t b) { return sym[a].score > sym[b].score || (sym[a].score == sym[b].score && a < b); };
    MergeHeap<decltype(before)> heap(sym, s.heap, before);
    auto evaluate = [&](int32_t i) { // the pair (i, next(i))
        int32_t j = sym[i].next;
        int32_t id = j < 0 ? -1 : t.find(e + sym[i].off, sym[i].len + sym[j].len);
        if (id < 0) {
            heap.remove(i);
            return;
        }
        sym[i].score = t.scores ? t.scores[id] : 0.0f;
        heap.set(i);
    };
    auto is_space = [&](int32_t i) { return sym[i].len == 3 && memcmp(e + sym[i].off, kSpace, 3) == 0; };
    int32_t first = 0;
    for (int32_t end = 1; end <= count; end++) {
        if (end < count && !(is_space(end) && !t.joins_space[static_cast<uint8_t>(e[sym[end].off - 1])])) continue;
        sym[first].prev = -1;
        sym[end - 1].next = -1;
        for (int32_t i = first; i + 1 < end; i++) evaluate(i);
        merge_all(sym, heap, evaluate, [](int32_t) {});
        // 4. Emit: a symbol is a token, or its bytes are (llama.cpp's resegment()).
        for (int32_t i = first; i != -1; i = sym[i].next) {
            int32_t id = t.find(e + sym[i].off, sym[i].len);
            if (id >= 0) {
                sink.push(id);
                continue;
            }
            for (uint32_t k = 0; k < sym[i].len; k++) {
                int32_t b = t.byte_token[static_cast<uint8_t>(e[sym[i].off + k])];
                // llama.cpp throws when a vocabulary lacks the byte token; we emit <unk>.
                if (b < 0) b = t.unk;
                if (b >= 0) sink.push(b);
            }
        }
        first = end;
    }
    return SM_OK;
}

} // namespace sm::text
