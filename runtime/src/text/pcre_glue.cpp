#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/pcre_glue.h"

#include "core/bump.h"

#include <pcre2.h>

namespace sm::text {

namespace {

// --- the build-time region: a stack allocator with deferred frees -----------------------

struct BlockHeader {
    size_t prev;  // previous topmost header offset (SIZE_MAX for none)
    size_t freed; // 1 once freed but not yet popped (something above it was live)
};
static_assert(sizeof(BlockHeader) == 16, "keeps blocks 16-byte aligned");

void *region_malloc(PCRE2_SIZE n, void *data) {
    PcreRegion &r = *static_cast<PcreRegion *>(data);
    size_t at = align_up(r.top, 16);
    size_t end = at + sizeof(BlockHeader) + align_up(n, 16);
    if (end > r.cap) {
        r.exhausted = true;
        return nullptr;
    }
    BlockHeader *h = reinterpret_cast<BlockHeader *>(r.base + at);
    h->prev = r.last;
    h->freed = 0;
    r.last = at;
    r.top = end;
    if (end > r.high) r.high = end;
    return h + 1;
}

void region_free(void *p, void *data) {
    if (!p) return;
    PcreRegion &r = *static_cast<PcreRegion *>(data);
    reinterpret_cast<BlockHeader *>(p)[-1].freed = 1;
    // Pop every freed block from the top; blocks below a live one wait for it.
    while (r.last != SIZE_MAX) {
        BlockHeader *h = reinterpret_cast<BlockHeader *>(r.base + r.last);
        if (!h->freed) break;
        r.top = r.last;
        r.last = h->prev;
    }
}

// --- the per-call scratch heap: bump only, freed wholesale when encode() returns --------

void *scratch_malloc(PCRE2_SIZE n, void *data) {
    MatchScratch &s = *static_cast<MatchScratch *>(data);
    size_t at = align_up(s.used, 16);
    if (at + n > s.cap) return nullptr;
    s.used = at + n;
    return s.base + at;
}

void scratch_free(void *, void *) {}

// The interpreter's frame vector starts at 20 KiB and doubles; without frees, 64 KiB of
// heap limit needs 20 + 40 + 80 KiB of bump space at most.
constexpr size_t kInterpreterHeapLimitKiB = 64;
constexpr size_t kInterpreterScratch = 160 * 1024;
constexpr size_t kContextScratch = 2048;

} // namespace

sm_status compile_regex(const char *pattern, size_t len, PcreRegion &region, pcre2_code **out, bool *jitted, Error &err) {
    *out = nullptr;
    *jitted = false;
    pcre2_general_context *gc = pcre2_general_context_create(region_malloc, region_free, &region);
    pcre2_compile_context *cc = gc ? pcre2_compile_context_create(gc) : nullptr;
    if (!cc) return err.set(SM_ERR_CAPACITY, "tokenizer: regex memory region (%zu bytes) exhausted", region.cap);
    int code = 0;
    PCRE2_SIZE at = 0;
    const uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY;
    pcre2_code *re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), len, options, &code, &at, cc);
    pcre2_compile_context_free(cc);
    pcre2_general_context_free(gc); // compiled code keeps its own copy of the allocator
    if (!re) {
        if (region.exhausted) return err.set(SM_ERR_CAPACITY, "tokenizer: regex memory region (%zu bytes) exhausted", region.cap);
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        return err.set(SM_ERR_INTERNAL, "tokenizer: regex does not compile at %zu: %s", static_cast<size_t>(at),
                       reinterpret_cast<const char *>(msg));
    }
    // JIT is an optimisation: on systems that forbid executable memory it fails and the
    // interpreter gives the same matches.
    *jitted = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
    if (region.exhausted) {
        pcre2_code_free(re);
        return err.set(SM_ERR_CAPACITY, "tokenizer: regex memory region (%zu bytes) exhausted", region.cap);
    }
    *out = re;
    return SM_OK;
}

void free_regex(pcre2_code *code) {
    if (code) pcre2_code_free(code);
}

size_t match_scratch_bytes(bool jit) { return jit ? kContextScratch : kContextScratch + kInterpreterScratch; }

sm_status MatchScratch::init(void *block, size_t bytes, bool jit, Error &err) {
    base = static_cast<uint8_t *>(block);
    cap = bytes;
    used = 0;
    pcre2_general_context *gc = pcre2_general_context_create(scratch_malloc, scratch_free, this);
    mc = gc ? pcre2_match_context_create(gc) : nullptr;
    md = gc ? pcre2_match_data_create(1, gc) : nullptr; // group 0 is all we read
    if (!mc || !md) return err.set(SM_ERR_CAPACITY, "tokenizer: scratch too small for regex match state");
    if (!jit) pcre2_set_heap_limit(mc, kInterpreterHeapLimitKiB);
    return SM_OK;
}

int MatchScratch::find(const pcre2_code *code, const char *subject, size_t len, size_t start, size_t *ms, size_t *me,
                       Error &err) {
    int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject), len, start, PCRE2_NO_UTF_CHECK, md, mc);
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    if (rc < 0) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(rc, msg, sizeof msg);
        const bool memory = rc == PCRE2_ERROR_NOMEMORY || rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT ||
                            rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT;
        err.set(memory ? SM_ERR_CAPACITY : SM_ERR_INTERNAL, "tokenizer: regex match failed: %s",
                reinterpret_cast<const char *>(msg));
        return -1;
    }
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    *ms = ov[0];
    *me = ov[1];
    return 1;
}

} // namespace sm::text
