// `--config FILE.toml`: defaults for any command's flags, read with toml++. Flags given on
// the command line win over the file.
#pragma once
#include <string>
#include <vector>

// Appends "--flag value" pairs for the keys of the file that apply to `command` ([train]
// to train only; [sampler], [generate] and model.batch to every command but train, whose
// --seed, --step-budget-us and --batch are the trainer's). The command's own table comes
// first, so it wins over the shared ones. Returns false (message in *error) for unreadable
// TOML, an unknown key, or a value of the wrong type.
bool read_config(const std::string &path, const std::string &command, std::vector<std::string> *pairs, std::string *error);
