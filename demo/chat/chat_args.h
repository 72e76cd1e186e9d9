// Command line of smallmind_chat. Parsing never exits or throws: it returns false with a
// message already printed, and main() turns that into exit status 2.
#pragma once
#include <cstdint>
#include <string>

struct ChatOptions {
    std::string model;                                       // --model; default: assets/stories260K.gguf (see default_model_path)
    uint32_t budget_us = 2000;                               // --budget-us: model time per frame
    int threads = 1;                                         // --threads: the frame thread plus N-1 pool threads
    float temperature = 0.8f;                                // --temp: 0 = greedy
    uint64_t seed = 42;                                      // --seed: fixed by default so runs (and screenshots) repeat
    int max_tokens = 400;                                    // --max-tokens: per reply, 0 = until EOS
    int ctx = 0;                                             // --ctx: 0 = the model's training context (capped at 2048)
    enum class Mode { Auto, Story, Chat } mode = Mode::Auto; // --mode auto|story|chat
    std::string screenshot;                                  // --screenshot OUT.png: scripted run, then save and exit
    int frames = 240;                                        // --frames N (with --screenshot)
    bool hud = true;                                         // --no-hud
    bool teach = true;                                       // --no-teach: no trainer planned (no /teach)
    std::string adapter;                                     // --adapter A.gguf: the character's adapter to start from
    std::string teach_script;                                // --teach TEXT (with --screenshot): taught at frame 3
    bool vsync = true;                                       // --no-vsync (the 60 Hz pacer still runs)
    bool help = false;
};

// Returns false (after printing why to stderr) on a bad or unknown argument.
bool parse_args(int argc, char **argv, ChatOptions *out);
void print_usage(const char *argv0);

// assets/stories260K.gguf relative to the working folder, else relative to the binary
// (bin/<config>/smallmind_chat -> ../../assets/stories260K.gguf).
std::string default_model_path();
