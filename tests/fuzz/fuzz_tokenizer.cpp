// libFuzzer target for the tokenizers: the first byte picks the vocabulary (SPM or GPT-2
// BPE with one of several pre-tokenizers) and the encode flags, the rest is the text.
// Checks: encode() succeeds within the planned scratch, ids are in range, BPE decodes
// back to the text, and decoding the bytes of the input as ids through Utf8Stream gives
// valid UTF-8. Vocabularies come from the repository's tests/data; a missing one stops the
// fuzzer at start (exit 1, naming the file) rather than fuzzing nothing.
#include "core/bump.h"
#include "core/file_map.h"
#include "format/gguf.h"
#include "format/model_file.h"
#include "text/tokenizer.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

using namespace sm;

namespace {

constexpr int kMaxText = 4096;

struct Fixture {
    FileMap map;
    gguf::File file;
    text::VocabSource v;
    text::Tokenizer tok;
    std::vector<uint8_t> arena, scratch;
    bool ok = false;
};

std::string data_dir() {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    std::string exe = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "./bin/fuzz/x";
    for (int up = 0; up < 3; up++) exe = exe.substr(0, exe.find_last_of('/')); // <repo>/bin/<config>/exe
    return exe + "/tests/data";
}

bool load(Fixture &f, const char *name, const char *pre) {
    Error err;
    std::string path = data_dir() + "/" + name;
    if (f.map.open(path.c_str(), err) != SM_OK || gguf::parse(f.map.data(), f.map.size(), f.file, err) != SM_OK ||
        vocab_from_gguf(f.file, f.v, err) != SM_OK) {
        fprintf(stderr, "fuzz_tokenizer: cannot load %s: %s\n", path.c_str(), err.message);
        return false;
    }
    if (pre) f.v.pre = pre;
    size_t tb = 0, sb = 0;
    if (text::Tokenizer::plan(f.v, kMaxText, &tb, &sb, err) != SM_OK) {
        fprintf(stderr, "fuzz_tokenizer: cannot plan %s: %s\n", path.c_str(), err.message);
        return false;
    }
    f.arena.resize(tb + 64);
    f.scratch.resize(sb + 64);
    Bump b = Bump::over(f.arena.data() + (64 - reinterpret_cast<uintptr_t>(f.arena.data()) % 64) % 64, tb);
    f.ok = f.tok.build(f.v, b, err) == SM_OK;
    if (!f.ok) fprintf(stderr, "fuzz_tokenizer: cannot build %s: %s\n", path.c_str(), err.message);
    return f.ok;
}

Fixture fixtures[4];

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    const bool ok = load(fixtures[0], "ggml-vocab-llama-spm.gguf", nullptr) &&
                    load(fixtures[1], "ggml-vocab-gpt-2.gguf", nullptr) &&
                    load(fixtures[2], "ggml-vocab-gpt-2.gguf", "llama-bpe") &&
                    load(fixtures[3], "ggml-vocab-gpt-2.gguf", "deepseek-llm");
    if (!ok) exit(1);
    return 0;
}

namespace {

bool valid_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80                   ? 1
                     : (c >= 0xC2 && c <= 0xDF) ? 2
                     : (c >= 0xE0 && c <= 0xEF) ? 3
                     : (c >= 0xF0 && c <= 0xF4) ? 4
                                                : 0;
        if (!len || i + len > n) return false;
        for (size_t k = 1; k < len; k++)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += len;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    Fixture &f = fixtures[data[0] % 4];
    const uint32_t flags = (data[0] >> 2) & 3;
    const char *text = reinterpret_cast<const char *>(data + 1);
    size_t n = size - 1;
    if (n > kMaxText) n = kMaxText;

    uint8_t *scratch = f.scratch.data() + (64 - reinterpret_cast<uintptr_t>(f.scratch.data()) % 64) % 64;
    Bump s = Bump::over(scratch, f.scratch.size() - 64);
    std::vector<int32_t> ids(n + 2);
    size_t n_ids = 0;
    Error err;
    sm_status st = f.tok.encode(std::string_view(text, n), flags, ids.data(), ids.size(), &n_ids, s, err);
    if (st == SM_ERR_CAPACITY && n_ids > ids.size()) { // more tokens than bytes: possible (U+FFFD)
        ids.resize(n_ids);
        st = f.tok.encode(std::string_view(text, n), flags, ids.data(), ids.size(), &n_ids, s, err);
    }
    if (st != SM_OK) {
        fprintf(stderr, "encode failed: %s\n", err.message);
        abort();
    }
    for (size_t i = 0; i < n_ids; i++)
        if (ids[i] < 0 || ids[i] >= f.tok.n_vocab()) abort();

    // Decode the input's own bytes as token ids, through the stream.
    text::Utf8Stream stream;
    char piece[256], out[3 * sizeof piece + 9];
    for (size_t i = 0; i + 1 < n; i += 2) {
        int32_t id = static_cast<int32_t>((static_cast<uint32_t>(data[1 + i]) << 8 | data[2 + i]) % (f.tok.n_vocab() + 16)) - 8;
        size_t k = f.tok.token_bytes(id, piece, sizeof piece, (data[1 + i] & 1) != 0);
        if (k > sizeof piece) k = sizeof piece;
        size_t w = stream.push(piece, k, out, sizeof out);
        if (!valid_utf8(out, w)) abort();
    }
    size_t w = stream.flush(out, sizeof out);
    if (!valid_utf8(out, w)) abort();
    return 0;
}
