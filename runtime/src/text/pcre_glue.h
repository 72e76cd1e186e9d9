// PCRE2 (8-bit, UTF + UCP, JIT) without the heap.
//
// Compiling happens once, in build(): PCRE2 allocates through a general context whose
// malloc takes blocks from a fixed PcreRegion of arena memory (a stack: a free of the
// topmost block gives it back, which covers PCRE2's temporary compile buffers). JIT
// machine code itself lives in PCRE2's executable-memory allocator (mmap), since arena
// memory is not executable; release_regexes() gives it back.
//
// Matching happens in encode(): match data and match context are created per call in
// a block of the caller's scratch (MatchScratch), so a built tokenizer is never written
// to and may encode on several threads at once (each with its own scratch).
#pragma once
#include "core/error.h"

#include <cstddef>
#include <cstdint>

struct pcre2_real_code_8;
struct pcre2_real_match_data_8;
struct pcre2_real_match_context_8;

namespace sm::text {

struct PcreRegion {
    uint8_t *base = nullptr;
    size_t cap = 0;
    size_t top = 0;         // bytes in use
    size_t last = SIZE_MAX; // offset of the topmost block's header
    size_t high = 0;        // high-water mark, for tests and sizing
    bool exhausted = false;
};

// Compiles pattern (UTF-8, PCRE2 syntax) into *out with memory from region; tries JIT
// (*jitted says whether it worked: without it matching falls back to the interpreter).
sm_status compile_regex(const char *pattern, size_t len, PcreRegion &region, pcre2_real_code_8 **out, bool *jitted, Error &err);
void free_regex(pcre2_real_code_8 *code);

// Per-call matching state carved from scratch memory. Must not move after init().
struct MatchScratch {
    uint8_t *base = nullptr;
    size_t cap = 0, used = 0;
    pcre2_real_match_data_8 *md = nullptr;
    pcre2_real_match_context_8 *mc = nullptr;

    // block/bytes: scratch memory (bytes from match_scratch_bytes()).
    sm_status init(void *block, size_t bytes, bool jit, Error &err);
    // Finds the first match of code in subject[0,len) at or after start. Returns 1 and
    // sets [*ms,*me) on a match, 0 when there is none, or an error status (negative
    // values never escape: they become SM_ERR_CAPACITY / SM_ERR_INTERNAL in err).
    int find(const pcre2_real_code_8 *code, const char *subject, size_t len, size_t start, size_t *ms, size_t *me, Error &err);
};

// Scratch one MatchScratch needs: tiny with JIT (contexts only), more for the
// interpreter's backtracking frames when JIT is unavailable.
size_t match_scratch_bytes(bool jit);

} // namespace sm::text
