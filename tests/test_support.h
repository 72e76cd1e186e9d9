// Shared helpers for the Catch2 tests: fixture paths and the allocation counter.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace smtest {

// ../shared next to the repository (SM_SHARED_DIR overrides).
std::string shared_path(const std::string &rel);
// A path inside the repository.
std::string repo_path(const std::string &rel);
// A fresh path in the test's temporary folder.
std::string temp_path(const std::string &name);

std::vector<uint8_t> read_file(const std::string &path);
void write_file(const std::string &path, const std::vector<uint8_t> &bytes);

// Heap allocations made by this process's code (operator new, malloc family, mimalloc)
// since the start; compare before and after the code under test.
uint64_t heap_allocations();

} // namespace smtest
