// Shared by the tokenizer tests: loading vocabularies from the test files (tests/data),
// building a tokenizer in (aligned) heap memory standing in for the arena, and reading
// llama.cpp's .inp/.out vectors.
#pragma once
#include "core/bump.h"
#include "core/file_map.h"
#include "format/gguf.h"
#include "format/model_file.h"
#include "test_support.h"
#include "text/tokenizer.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace smtest {

struct AlignedBuf {
    uint8_t *p = nullptr;
    size_t n = 0;
    AlignedBuf() = default;
    explicit AlignedBuf(size_t bytes)
        : p(static_cast<uint8_t *>(aligned_alloc(64, sm::align_up(bytes ? bytes : 64, 64)))), n(bytes) {}
    AlignedBuf(const AlignedBuf &) = delete;
    AlignedBuf &operator=(const AlignedBuf &) = delete;
    ~AlignedBuf() { free(p); }
};

// A vocabulary from a vocab-only GGUF file (the map and parsed file stay alive with it).
// A file that cannot be opened fails the current test, naming it; one that does not parse
// leaves ok false for the test to check.
struct GgufVocab {
    sm::FileMap map;
    sm::gguf::File file;
    sm::text::VocabSource v;
    bool ok = false;
    explicit GgufVocab(const std::string &path) {
        sm::Error err;
        if (map.open(path.c_str(), err) != SM_OK) FAIL("cannot read fixture " << path << ": " << err.message);
        ok = sm::gguf::parse(map.data(), map.size(), file, err) == SM_OK && sm::vocab_from_gguf(file, v, err) == SM_OK;
    }
};

// A tokenizer built exactly as planned, plus its encode scratch.
struct BuiltTokenizer {
    sm::text::Tokenizer tok;
    std::unique_ptr<AlignedBuf> arena, scratch;
    size_t table_bytes = 0, scratch_bytes = 0, arena_used = 0;
    sm_status status = SM_OK;
    sm::Error err;

    BuiltTokenizer(const sm::text::VocabSource &v, int max_text) {
        status = sm::text::Tokenizer::plan(v, max_text, &table_bytes, &scratch_bytes, err);
        if (status != SM_OK) return;
        arena.reset(new AlignedBuf(table_bytes));
        scratch.reset(new AlignedBuf(scratch_bytes));
        sm::Bump b = sm::Bump::over(arena->p, table_bytes);
        status = tok.build(v, b, err);
        arena_used = b.used;
    }
    ~BuiltTokenizer() { tok.release(); }

    sm::Bump scratch_bump() const { return sm::Bump::over(scratch->p, scratch_bytes); }

    std::vector<int32_t> encode(const std::string &text, uint32_t flags, sm_status *st = nullptr) {
        std::vector<int32_t> out(text.size() * 3 + 8);
        size_t n = 0;
        sm::Bump s = scratch_bump();
        sm::Error e;
        sm_status r = tok.encode(text, flags, out.data(), out.size(), &n, s, e);
        if (st) *st = r;
        out.resize(r == SM_OK ? n : 0);
        return out;
    }

    std::string decode(const std::vector<int32_t> &ids, bool render_control = false) const {
        std::string s;
        char buf[512];
        for (int32_t id : ids) {
            size_t n = tok.token_bytes(id, buf, sizeof buf, render_control);
            s.append(buf, n < sizeof buf ? n : sizeof buf);
        }
        return s;
    }
};

inline std::vector<std::string> split_exact(const std::string &s, const std::string &sep) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        size_t at = s.find(sep, start);
        if (at == std::string::npos) {
            parts.push_back(s.substr(start));
            return parts;
        }
        parts.push_back(s.substr(start, at - start));
        start = at + sep.size();
    }
}

// llama.cpp's test vectors: .inp split on "\n__ggml_vocab_test__\n", .out one line each.
struct VocabVectors {
    std::vector<std::string> inputs;
    std::vector<std::vector<int32_t>> expected;
};

inline VocabVectors read_vectors(const std::string &gguf_path) {
    VocabVectors v;
    std::vector<uint8_t> inp = read_fixture(gguf_path + ".inp"), out = read_fixture(gguf_path + ".out");
    std::string in_s(inp.begin(), inp.end()), out_s(out.begin(), out.end());
    v.inputs = split_exact(in_s, "\n__ggml_vocab_test__\n");
    // The file ends with a separator line (no trailing newline after it, or one).
    if (!v.inputs.empty()) {
        std::string &last = v.inputs.back();
        const std::string tail = "\n__ggml_vocab_test__";
        if (last.size() >= tail.size() && last.compare(last.size() - tail.size(), tail.size(), tail) == 0)
            last.resize(last.size() - tail.size());
        if (last.empty() || last == "\n") v.inputs.pop_back();
    }
    for (const std::string &line : split_exact(out_s, "\n")) {
        std::vector<int32_t> ids;
        size_t i = 0;
        while (i < line.size()) {
            while (i < line.size() && line[i] == ' ') i++;
            if (i >= line.size()) break;
            ids.push_back(static_cast<int32_t>(strtol(line.c_str() + i, nullptr, 10)));
            while (i < line.size() && line[i] != ' ') i++;
        }
        v.expected.push_back(ids);
    }
    if (v.expected.size() > v.inputs.size()) v.expected.resize(v.inputs.size());
    return v;
}

} // namespace smtest
