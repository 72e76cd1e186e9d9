// `--config FILE.toml`: defaults for any command's flags, read with toml++. Flags given on
// the command line win over the file.
#pragma once
#include <string>
#include <vector>

// Appends "--flag value" pairs for every key of the file. Returns false (message in
// *error) for unreadable TOML or an unknown key.
bool read_config(const std::string &path, std::vector<std::string> *pairs, std::string *error);
