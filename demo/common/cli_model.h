// What every command that loads a model shares: the flags, the two-step budget (ask the
// model how much it needs, then make a runtime of exactly that), error printing.
#pragma once
#include "cli_args.h"
#include "smallmind/smallmind.h"

#include <string>

struct ModelOptions {
    std::string path, tokenizer;
    int64_t threads = 1, budget_mb = 0, ctx = 0, sinks = 4, batch = 64, sessions = 1, max_text = 0;
    std::string isa = "auto", kv_type = "f32";
    bool all_logits = false, async_worker = false;
};

// Reads --model --tokenizer --threads --isa --budget-mb --ctx --sinks --batch --sessions
// --max-text --kv-type.
void read_model_options(Args &args, ModelOptions &o);
bool parse_isa(const std::string &name, sm_isa *out);

struct Loaded {
    sm_runtime *rt = nullptr;
    sm_model *model = nullptr;
    sm_model_info info{};
    ~Loaded();
};

// Prints the reason to stderr and returns false on failure.
bool load_model(const ModelOptions &o, Loaded &out);
int report(sm_runtime *rt, sm_status st, const char *what); // prints, returns exit code 1
int usage_error(const char *msg);
