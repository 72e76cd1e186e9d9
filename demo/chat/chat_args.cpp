#include "chat_args.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace {

bool parse_int(const char *flag, const char *v, long long lo, long long hi, long long *out) {
    char *end = nullptr;
    errno = 0;
    const long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "error: %s expects an integer in [%lld, %lld], got '%s'\n", flag, lo, hi, v);
        return false;
    }
    *out = x;
    return true;
}

bool parse_float(const char *flag, const char *v, float lo, float hi, float *out) {
    char *end = nullptr;
    errno = 0;
    const float x = strtof(v, &end);
    if (errno || end == v || *end || !std::isfinite(x) || x < lo || x > hi) {
        fprintf(stderr, "error: %s expects a number in [%g, %g], got '%s'\n", flag, lo, hi, v);
        return false;
    }
    *out = x;
    return true;
}

} // namespace

void print_usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--model PATH] [--budget-us N] [--threads N] [--temp T] [--seed S]\n"
            "          [--max-tokens N] [--ctx N] [--mode auto|story|chat] [--no-hud] [--no-vsync]\n"
            "          [--no-teach] [--adapter A.gguf] [--screenshot OUT.png [--frames N] [--teach TEXT]]\n"
            "\n"
            "  --model PATH       GGUF model (default assets/stories260K.gguf)\n"
            "  --budget-us N      model time per frame in microseconds (default 2000; +/- in the app)\n"
            "  --threads N        threads doing model work, this one included (default 1)\n"
            "  --temp T           sampling temperature, 0 = greedy (default 0.8)\n"
            "  --seed S           sampler seed (default 42)\n"
            "  --max-tokens N     tokens per reply, 0 = until end of text (default 400)\n"
            "  --mode M           story: text is continued; chat: the model's chat template;\n"
            "                     auto (default): chat when the model has a template\n"
            "  --screenshot F     type \"Once upon a time\", run --frames frames (default 240),\n"
            "                     write the window to F as PNG and exit\n"
            "  --teach TEXT       with --screenshot: type \"/teach TEXT\" first and print how the\n"
            "                     held-out loss on TEXT changed\n"
            "  --adapter A.gguf   the character's LoRA adapter (a /save file) to talk and learn with\n"
            "  --no-teach         plan no trainer: no /teach, a smaller arena\n"
            "\n"
            "lines: /teach TEXT fine-tunes the character's adapter on TEXT a slice per frame while it\n"
            "       talks; /save PATH writes the adapter (llama.cpp's GGUF LoRA format)\n"
            "\n"
            "keys: Enter send, Esc stop, F5 / Ctrl+L reset, F1 HUD, +/- budget,\n"
            "      PageUp/PageDown/wheel scroll, End follow\n",
            argv0);
}

bool parse_args(int argc, char **argv, ChatOptions *o) {
    bool frames_given = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        // Every flag but the switches takes one value.
        auto value = [&](const char **v) {
            if (i + 1 >= argc) {
                fprintf(stderr, "error: %s needs a value\n", a);
                return false;
            }
            *v = argv[++i];
            return true;
        };
        const char *v = nullptr;
        long long n = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            o->help = true;
        } else if (!strcmp(a, "--no-hud")) {
            o->hud = false;
        } else if (!strcmp(a, "--no-vsync")) {
            o->vsync = false;
        } else if (!strcmp(a, "--no-teach")) {
            o->teach = false;
        } else if (!strcmp(a, "--adapter")) {
            if (!value(&v)) return false;
            o->adapter = v;
        } else if (!strcmp(a, "--teach")) {
            if (!value(&v)) return false;
            o->teach_script = v;
        } else if (!strcmp(a, "--model")) {
            if (!value(&v)) return false;
            o->model = v;
        } else if (!strcmp(a, "--budget-us")) {
            if (!value(&v) || !parse_int(a, v, 1, 1000000, &n)) return false;
            o->budget_us = static_cast<uint32_t>(n);
        } else if (!strcmp(a, "--threads")) {
            if (!value(&v) || !parse_int(a, v, 1, 64, &n)) return false;
            o->threads = static_cast<int>(n);
        } else if (!strcmp(a, "--temp")) {
            if (!value(&v) || !parse_float(a, v, 0.0f, 10.0f, &o->temperature)) return false;
        } else if (!strcmp(a, "--seed")) {
            if (!value(&v) || !parse_int(a, v, 0, INT64_MAX, &n)) return false;
            o->seed = static_cast<uint64_t>(n);
        } else if (!strcmp(a, "--max-tokens")) {
            if (!value(&v) || !parse_int(a, v, 0, 1 << 20, &n)) return false;
            o->max_tokens = static_cast<int>(n);
        } else if (!strcmp(a, "--ctx")) {
            if (!value(&v) || !parse_int(a, v, 0, 1 << 16, &n)) return false;
            o->ctx = static_cast<int>(n);
        } else if (!strcmp(a, "--mode")) {
            if (!value(&v)) return false;
            if (!strcmp(v, "auto")) o->mode = ChatOptions::Mode::Auto;
            else if (!strcmp(v, "story")) o->mode = ChatOptions::Mode::Story;
            else if (!strcmp(v, "chat")) o->mode = ChatOptions::Mode::Chat;
            else {
                fprintf(stderr, "error: --mode must be auto, story or chat, got '%s'\n", v);
                return false;
            }
        } else if (!strcmp(a, "--screenshot")) {
            if (!value(&v)) return false;
            o->screenshot = v;
        } else if (!strcmp(a, "--frames")) {
            if (!value(&v) || !parse_int(a, v, 1, 1000000, &n)) return false;
            o->frames = static_cast<int>(n);
            frames_given = true;
        } else {
            fprintf(stderr, "error: unknown argument '%s' (see --help)\n", a);
            return false;
        }
    }
    if ((frames_given || !o->teach_script.empty()) && o->screenshot.empty()) {
        fprintf(stderr, "error: --frames and --teach only apply with --screenshot\n");
        return false;
    }
    if (!o->teach && (!o->teach_script.empty() || !o->adapter.empty())) {
        fprintf(stderr, "error: --teach and --adapter need the trainer (drop --no-teach)\n");
        return false;
    }
    if (o->model.empty()) o->model = default_model_path();
    return true;
}

std::string default_model_path() {
    const char *rel = "assets/stories260K.gguf";
    if (access(rel, R_OK) == 0) return rel;
    char buf[4096];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return rel;
    std::string dir(buf, static_cast<size_t>(n));
    // .../bin/<config>/smallmind_chat: strip the file name, <config> and bin.
    for (int up = 0; up < 3; up++) {
        const size_t slash = dir.find_last_of('/');
        if (slash == std::string::npos) return rel;
        dir.resize(slash);
    }
    const std::string p = dir + "/" + rel;
    return access(p.c_str(), R_OK) == 0 ? p : rel;
}
