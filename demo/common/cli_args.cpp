#include "cli_args.h"
#include "cli_config.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

Args::Args(int argc, char **argv, int first) {
    std::string config;
    for (int i = first; i < argc; i++) {
        if (std::string(argv[i]) == "--config" && i + 1 < argc) {
            config = argv[++i];
            continue;
        }
        a_.push_back(argv[i]);
    }
    n_given_ = a_.size();
    // The file's values go after the command line's, so take() finds the flags first.
    if (!config.empty()) {
        std::string error;
        if (!read_config(config, first > 1 ? argv[first - 1] : "", &a_, &error)) {
            fprintf(stderr, "error: --config %s\n", error.c_str());
            ok_ = false;
        }
    }
    used_.assign(a_.size(), false);
}

const char *Args::take(const char *name) {
    for (size_t i = 0; i < a_.size(); i++) {
        if (used_[i] || a_[i] != name) continue;
        used_[i] = true;
        if (i + 1 >= a_.size()) {
            fprintf(stderr, "error: %s needs a value\n", name);
            ok_ = false;
            return nullptr;
        }
        used_[i + 1] = true;
        return a_[i + 1].c_str();
    }
    return nullptr;
}

bool Args::flag(const char *name) {
    for (size_t i = 0; i < a_.size(); i++)
        if (!used_[i] && a_[i] == name) {
            used_[i] = true;
            return true;
        }
    return false;
}

bool Args::str(const char *name, std::string *out) {
    const char *v = take(name);
    if (!v) return false;
    *out = v;
    return true;
}

bool Args::i64(const char *name, int64_t *out) {
    const char *v = take(name);
    if (!v) return false;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || end == v) {
        fprintf(stderr, "error: %s expects an integer, got '%s'\n", name, v);
        ok_ = false;
        return false;
    }
    *out = x;
    return true;
}

bool Args::f32(const char *name, float *out) {
    const char *v = take(name);
    if (!v) return false;
    char *end;
    errno = 0;
    float x = strtof(v, &end);
    if (errno || *end || end == v) {
        fprintf(stderr, "error: %s expects a number, got '%s'\n", name, v);
        ok_ = false;
        return false;
    }
    *out = x;
    return true;
}

bool Args::ids(const char *name, std::vector<int32_t> *out) {
    const char *v = take(name);
    if (!v) return false;
    out->clear();
    const char *p = v;
    while (*p) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (errno || end == p || x < INT32_MIN || x > INT32_MAX) {
            fprintf(stderr, "error: %s expects comma-separated token ids, got '%s'\n", name, v);
            ok_ = false;
            return false;
        }
        out->push_back(static_cast<int32_t>(x));
        p = end;
        if (*p == ',') p++;
        else if (*p) {
            fprintf(stderr, "error: %s expects comma-separated token ids, got '%s'\n", name, v);
            ok_ = false;
            return false;
        }
    }
    return true;
}

bool Args::finish(const char *command) {
    for (size_t i = 0; i < n_given_; i++)
        if (!used_[i]) {
            fprintf(stderr, "error: %s: unknown argument '%s' (see smallmind help)\n", command, a_[i].c_str());
            ok_ = false;
        }
    return ok_;
}

std::string repo_file(const char *rel) {
    if (access(rel, R_OK) == 0) return rel;
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return rel;
    std::string exe(buf, static_cast<size_t>(n));
    for (int up = 0; up < 3; up++) exe = exe.substr(0, exe.find_last_of('/'));
    std::string p = exe + "/" + rel;
    return access(p.c_str(), R_OK) == 0 ? p : rel;
}

std::string default_model_path() { return repo_file("assets/stories260K.gguf"); }
