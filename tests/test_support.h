// Shared helpers for the Catch2 tests: fixture paths and the allocation counter.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace smtest {

// A committed fixture file: tests/data/<name> (see tests/data/README.md). data_path() is
// the path only; fixture() and read_fixture() also fail the current test, naming the path,
// when the file is missing or unreadable (read_fixture: or empty), so a broken checkout
// reads as failed tests, never as a crash.
std::string data_path(const std::string &name);
std::string fixture(const std::string &name);
std::vector<uint8_t> read_fixture(const std::string &path);
// An outside reference program (llama.cpp, llm.c) under ../shared/reference beside the
// repository (SM_SHARED_DIR/reference instead, when set). It may be absent: see skipped().
std::string reference_path(const std::string &rel);
// Prints the plain line "skipped: <reason>", for checks whose outside reference is absent.
void skipped(const std::string &reason);
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
