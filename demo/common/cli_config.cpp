#include "cli_config.h"

#include <toml++/toml.h>

#include <cstdio>
#include <sstream>

namespace {

enum class Kind { Int, Num, Str, Switch }; // Switch: `key = true` gives the bare flag
enum class Scope { Any, TrainOnly, NotTrain };

// TOML table.key -> command-line flag.
struct Key {
    const char *table, *key, *flag;
    Kind kind;
    Scope scope = Scope::Any;
};
const Key kKeys[] = {
    {"runtime", "budget_mb", "--budget-mb", Kind::Int},
    {"runtime", "threads", "--threads", Kind::Int},
    {"runtime", "isa", "--isa", Kind::Str},
    {"model", "path", "--model", Kind::Str},
    {"model", "tokenizer", "--tokenizer", Kind::Str},
    {"model", "ctx", "--ctx", Kind::Int},
    {"model", "sinks", "--sinks", Kind::Int},
    {"model", "batch", "--batch", Kind::Int, Scope::NotTrain},
    {"model", "sessions", "--sessions", Kind::Int},
    {"model", "kv_type", "--kv-type", Kind::Str},
    {"sampler", "temperature", "--temp", Kind::Num, Scope::NotTrain},
    {"sampler", "top_k", "--top-k", Kind::Int, Scope::NotTrain},
    {"sampler", "top_p", "--top-p", Kind::Num, Scope::NotTrain},
    {"sampler", "min_p", "--min-p", Kind::Num, Scope::NotTrain},
    {"sampler", "repeat_penalty", "--repeat-penalty", Kind::Num, Scope::NotTrain},
    {"sampler", "frequency_penalty", "--frequency-penalty", Kind::Num, Scope::NotTrain},
    {"sampler", "presence_penalty", "--presence-penalty", Kind::Num, Scope::NotTrain},
    {"sampler", "penalty_window", "--penalty-window", Kind::Int, Scope::NotTrain},
    {"sampler", "seed", "--seed", Kind::Int, Scope::NotTrain},
    {"generate", "max_tokens", "-n", Kind::Int, Scope::NotTrain},
    {"generate", "prompt", "--prompt", Kind::Str, Scope::NotTrain},
    {"generate", "step_budget_us", "--step-budget-us", Kind::Int, Scope::NotTrain},
    // smallmind train: the data, the shape of a model trained from scratch, the schedule.
    {"train", "data", "--data", Kind::Str, Scope::TrainOnly},
    {"train", "out", "--out", Kind::Str, Scope::TrainOnly},
    {"train", "model", "--model", Kind::Str, Scope::TrainOnly},
    {"train", "vocab", "--vocab", Kind::Str, Scope::TrainOnly},
    {"train", "dim", "--dim", Kind::Int, Scope::TrainOnly},
    {"train", "hidden", "--hidden", Kind::Int, Scope::TrainOnly},
    {"train", "layers", "--layers", Kind::Int, Scope::TrainOnly},
    {"train", "heads", "--heads", Kind::Int, Scope::TrainOnly},
    {"train", "kv_heads", "--kv-heads", Kind::Int, Scope::TrainOnly},
    {"train", "steps", "--steps", Kind::Int, Scope::TrainOnly},
    {"train", "batch", "--batch", Kind::Int, Scope::TrainOnly},
    {"train", "seq", "--seq", Kind::Int, Scope::TrainOnly},
    {"train", "lr", "--lr", Kind::Num, Scope::TrainOnly},
    {"train", "lr_min", "--lr-min", Kind::Num, Scope::TrainOnly},
    {"train", "weight_decay", "--weight-decay", Kind::Num, Scope::TrainOnly},
    {"train", "clip", "--clip", Kind::Num, Scope::TrainOnly},
    {"train", "warmup", "--warmup", Kind::Int, Scope::TrainOnly},
    {"train", "accum", "--accum", Kind::Int, Scope::TrainOnly},
    {"train", "seed", "--seed", Kind::Int, Scope::TrainOnly},
    {"train", "step_budget_us", "--step-budget-us", Kind::Int, Scope::TrainOnly},
    {"train", "heldout", "--heldout", Kind::Num, Scope::TrainOnly},
    {"train", "eval_every", "--eval-every", Kind::Int, Scope::TrainOnly},
    {"train", "eval_sequences", "--eval-sequences", Kind::Int, Scope::TrainOnly},
    {"train", "checkpoint", "--checkpoint", Kind::Str, Scope::TrainOnly},
    {"train", "checkpoint_every", "--checkpoint-every", Kind::Int, Scope::TrainOnly},
    {"train", "resume", "--resume", Kind::Str, Scope::TrainOnly},
    {"train", "plot", "--plot", Kind::Str, Scope::TrainOnly},
    {"train", "json", "--json", Kind::Switch, Scope::TrainOnly},
};

const char *kind_name(Kind k) {
    switch (k) {
    case Kind::Int: return "an integer";
    case Kind::Num: return "a number";
    case Kind::Str: return "a string";
    case Kind::Switch: return "true or false";
    }
    return "";
}

bool applies(const Key &k, const std::string &command) {
    const bool train = command == "train";
    return k.scope == Scope::Any || (k.scope == Scope::TrainOnly) == train;
}

// The value as its flag's text; false when its TOML type is not the key's.
bool flag_text(const toml::node &v, Kind kind, std::string *out) {
    char buf[64];
    switch (kind) {
    case Kind::Int:
        if (!v.is_integer()) return false;
        *out = std::to_string(v.as_integer()->get());
        return true;
    case Kind::Num:
        if (v.is_integer()) *out = std::to_string(v.as_integer()->get());
        else if (v.is_floating_point()) {
            // All the digits: std::to_string's six decimals would turn 1e-7 into 0.
            snprintf(buf, sizeof buf, "%.17g", v.as_floating_point()->get());
            *out = buf;
        } else return false;
        return true;
    case Kind::Str:
        if (!v.is_string()) return false;
        *out = v.as_string()->get();
        return true;
    case Kind::Switch:
        if (!v.is_boolean()) return false;
        *out = v.as_boolean()->get() ? "true" : "";
        return true;
    }
    return false;
}

std::string where(const std::string &path, const toml::node &n) { return path + ":" + std::to_string(n.source().begin.line); }

} // namespace

bool read_config(const std::string &path, const std::string &command, std::vector<std::string> *pairs, std::string *error) {
    toml::table t;
    try {
        t = toml::parse_file(path);
    } catch (const toml::parse_error &e) {
        std::ostringstream s;
        s << path << ": " << e.description() << " (line " << e.source().begin.line << ")";
        *error = s.str();
        return false;
    }
    std::vector<std::string> own, shared; // the command's own table, then the rest
    for (auto &&[table_name, node] : t) {
        const toml::table *tab = node.as_table();
        if (!tab) {
            *error = where(path, node) + ": '" + std::string(table_name.str()) +
                     "' must be a table ([runtime], [model], [sampler], [generate], [train])";
            return false;
        }
        for (auto &&[key, value] : *tab) {
            const Key *k = nullptr;
            for (const Key &x : kKeys)
                if (table_name.str() == x.table && key.str() == x.key) k = &x;
            const std::string name = std::string(table_name.str()) + "." + std::string(key.str());
            if (!k) {
                *error = where(path, value) + ": unknown key '" + name + "'";
                return false;
            }
            std::string v;
            if (!flag_text(value, k->kind, &v)) {
                std::ostringstream got;
                value.visit([&](auto &&x) { got << x; });
                *error = where(path, value) + ": '" + name + "' must be " + kind_name(k->kind) + ", not " + got.str();
                return false;
            }
            if (!applies(*k, command)) continue;
            std::vector<std::string> &to = k->scope == Scope::TrainOnly ? own : shared;
            if (k->kind == Kind::Switch) {
                if (!v.empty()) to.push_back(k->flag);
                continue;
            }
            to.push_back(k->flag);
            to.push_back(v);
        }
    }
    pairs->insert(pairs->end(), own.begin(), own.end());
    pairs->insert(pairs->end(), shared.begin(), shared.end());
    return true;
}
