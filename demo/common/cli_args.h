// Tiny flag parser for the smallmind commands: "--name value" and "-n value" pairs and
// bare "--flag" switches; unknown flags are errors, never silently ignored.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

class Args {
public:
    Args(int argc, char **argv, int first);
    bool flag(const char *name);                  // --name present?
    bool str(const char *name, std::string *out); // --name VALUE
    bool i64(const char *name, int64_t *out);
    bool f32(const char *name, float *out);
    bool ids(const char *name, std::vector<int32_t> *out); // --name 1,2,3
    // Call after reading every known flag: reports leftovers, returns false if any.
    bool finish(const char *command);
    bool ok() const { return ok_; }

private:
    const char *take(const char *name);
    std::vector<std::string> a_;
    std::vector<bool> used_;
    size_t n_given_ = 0; // a_[n_given_..] came from --config: never reported as unknown
    bool ok_ = true;
};

// The default model: assets/stories260K.gguf from the working folder, or next to the
// binary's repository (bin/<config>/smallmind -> ../../assets).
std::string default_model_path();
std::string repo_file(const char *rel);
