#include "cli_config.h"

#include <toml++/toml.h>

#include <sstream>

namespace {

// TOML table.key -> command-line flag.
struct Key {
    const char *table, *key, *flag;
};
const Key kKeys[] = {
    {"runtime", "budget_mb", "--budget-mb"},
    {"runtime", "threads", "--threads"},
    {"runtime", "isa", "--isa"},
    {"model", "path", "--model"},
    {"model", "tokenizer", "--tokenizer"},
    {"model", "ctx", "--ctx"},
    {"model", "sinks", "--sinks"},
    {"model", "batch", "--batch"},
    {"model", "sessions", "--sessions"},
    {"model", "kv_type", "--kv-type"},
    {"sampler", "temperature", "--temp"},
    {"sampler", "top_k", "--top-k"},
    {"sampler", "top_p", "--top-p"},
    {"sampler", "min_p", "--min-p"},
    {"sampler", "repeat_penalty", "--repeat-penalty"},
    {"sampler", "frequency_penalty", "--frequency-penalty"},
    {"sampler", "presence_penalty", "--presence-penalty"},
    {"sampler", "penalty_window", "--penalty-window"},
    {"sampler", "seed", "--seed"},
    {"generate", "max_tokens", "-n"},
    {"generate", "prompt", "--prompt"},
    {"generate", "step_budget_us", "--step-budget-us"},
};

} // namespace

bool read_config(const std::string &path, std::vector<std::string> *pairs, std::string *error) {
    toml::table t;
    try {
        t = toml::parse_file(path);
    } catch (const toml::parse_error &e) {
        std::ostringstream s;
        s << path << ": " << e.description() << " (line " << e.source().begin.line << ")";
        *error = s.str();
        return false;
    }
    for (auto &&[table_name, node] : t) {
        const toml::table *tab = node.as_table();
        if (!tab) {
            *error = path + ": '" + std::string(table_name.str()) +
                     "' must be a table ([runtime], [model], [sampler], [generate])";
            return false;
        }
        for (auto &&[key, value] : *tab) {
            const Key *k = nullptr;
            for (const Key &x : kKeys)
                if (table_name.str() == x.table && key.str() == x.key) k = &x;
            if (!k) {
                *error = path + ": unknown key '" + std::string(table_name.str()) + "." + std::string(key.str()) + "'";
                return false;
            }
            std::string v;
            if (auto s = value.value<std::string>()) v = *s;
            else if (auto i = value.value<int64_t>()) v = std::to_string(*i);
            else if (auto d = value.value<double>()) v = std::to_string(*d);
            else {
                *error = path + ": '" + std::string(key.str()) + "' must be a string or a number";
                return false;
            }
            pairs->push_back(k->flag);
            pairs->push_back(v);
        }
    }
    return true;
}
