// Fixtures the fuzzers that run sessions share: the repository folder (for tests/data) and a
// tiny llama2.c model written to /tmp at start. A tiny model makes a forward pass cost
// microseconds: the session code around it, not GEMMs, is what those fuzzers exercise.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

namespace fuzz {

// <repo> for <repo>/bin/<config>/<exe>.
inline std::string repo_dir() {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    std::string exe = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "./bin/fuzz/x";
    for (int up = 0; up < 3; up++) exe = exe.substr(0, exe.find_last_of('/'));
    return exe;
}

// The stories260K tokenizer (tests/data/tok512.bin) the tiny model is loaded with.
inline std::string tiny_tokenizer_path() { return repo_dir() + "/tests/data/tok512.bin"; }

// A llama2.c legacy (version 0) checkpoint: 7 x i32 header, then every tensor in run.c's
// order (shared classifier), RoPE tables last; weights uniform in +-0.5 from a fixed seed.
// dim 16, one layer, vocabulary 512 (tok512.bin's), 64 positions. row_scale, when given
// (512 values), scales each token's embedding row, which is also its classifier row: a
// larger row makes that token likelier to be sampled. Returns the file's path ("" on error);
// the caller unlinks it once loaded.
inline std::string write_tiny_model(const char *tag, const std::vector<float> *row_scale = nullptr) {
    const int32_t dim = 16, hidden = 32, layers = 1, heads = 2, kv_heads = 1, vocab = 512, seq = 64;
    const int64_t hd = dim / heads, kvd = kv_heads * hd;
    const int64_t floats = vocab * dim + layers * (dim + dim * dim + 2 * dim * kvd + dim * dim + dim + 3 * dim * hidden) + dim +
                           seq * hd;
    const int32_t header[7] = {dim, hidden, layers, heads, kv_heads, vocab, seq};
    std::vector<float> w(static_cast<size_t>(floats));
    uint32_t x = 12345;
    for (float &v : w) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        v = static_cast<float>(x >> 8) / 16777216.0f - 0.5f;
    }
    if (row_scale && row_scale->size() == static_cast<size_t>(vocab))
        for (int t = 0; t < vocab; t++)
            for (int i = 0; i < dim; i++) w[static_cast<size_t>(t * dim + i)] *= (*row_scale)[static_cast<size_t>(t)];
    std::string path = std::string("/tmp/") + tag + "_XXXXXX";
    const int fd = mkstemp(&path[0]);
    if (fd < 0) return std::string();
    const bool ok = write(fd, header, sizeof header) == static_cast<ssize_t>(sizeof header) &&
                    write(fd, w.data(), w.size() * 4) == static_cast<ssize_t>(w.size() * 4);
    close(fd);
    if (!ok) unlink(path.c_str());
    return ok ? path : std::string();
}

// The pieces of a llama2.c tokenizer.bin (i32 max length, then per token: f32 score, i32
// length, bytes); empty if the file is not one of n_vocab tokens.
inline std::vector<std::string> read_tokenizer_pieces(const std::string &path, int n_vocab) {
    std::vector<std::string> pieces;
    FILE *f = fopen(path.c_str(), "rb");
    if (!f) return pieces;
    int32_t max_len = 0;
    bool ok = fread(&max_len, 4, 1, f) == 1 && max_len > 0 && max_len < 4096;
    for (int i = 0; ok && i < n_vocab; i++) {
        float score;
        int32_t len = 0;
        ok = fread(&score, 4, 1, f) == 1 && fread(&len, 4, 1, f) == 1 && len >= 0 && len <= max_len;
        std::string p(static_cast<size_t>(ok ? len : 0), '\0');
        ok = ok && (len == 0 || fread(&p[0], 1, p.size(), f) == p.size());
        pieces.push_back(p);
    }
    fclose(f);
    if (!ok) pieces.clear();
    return pieces;
}

} // namespace fuzz
