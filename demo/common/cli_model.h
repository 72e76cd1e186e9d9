// What every command that loads a model shares: the flags, the two-step budget (ask the
// model how much it needs, then make a runtime of exactly that), error printing.
#pragma once
#include "cli_args.h"
#include "smallmind/smallmind.h"

#include <string>
#include <vector>

struct ModelOptions {
    std::string path, tokenizer;
    int64_t threads = 1, budget_mb = 0, ctx = 0, sinks = 4, batch = 64, sessions = 1, max_text = 0;
    std::string isa = "auto", kv_type = "f32";
    bool all_logits = false, async_worker = false;
    std::vector<std::string> loras;              // --lora PATH[:SCALE], repeatable: applied together
    int64_t adapter_slots = 0, adapter_rank = 0; // extra slots a command plans (bench --lora-rank)
};

// Reads --model --tokenizer --threads --isa --budget-mb --ctx --sinks --batch --sessions
// --max-text --kv-type.
void read_model_options(Args &args, ModelOptions &o);
bool parse_isa(const std::string &name, sm_isa *out);

struct Loaded {
    sm_runtime *rt = nullptr;
    sm_model *model = nullptr;
    sm_model_info info{};
    std::vector<sm_adapter *> adapters; // the --lora files, loaded
    std::vector<float> scales;
    std::vector<sm_session *> sessions; // destroyed first, whatever path a command returns by
    // sm_session_create, remembered for the destructor (destroying one earlier is fine: a
    // stale handle is refused harmlessly).
    sm_status open_session(const sm_session_desc *d, sm_session **out);
    ~Loaded();
};

// Applies the --lora adapters to a session (nothing without them); prints and returns
// false on failure.
bool apply_adapters(const Loaded &L, sm_session *s);
// "PATH[:SCALE]" -> path and scale (1 when absent); false for a bad scale.
bool parse_lora_arg(const std::string &arg, std::string *path, float *scale);

// "q,k,v,o,gate,up,down" (any subset) -> SM_LORA_* bits; false for an unknown name or none.
bool parse_lora_targets(const std::string &list, uint32_t *out);

// Prints the reason to stderr and returns false on failure.
bool load_model(const ModelOptions &o, Loaded &out);
int report(sm_runtime *rt, sm_status st, const char *what); // prints, returns exit code 1
int usage_error(const char *msg);
