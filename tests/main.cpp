// Catch2 runner, fixture paths and reads, and the allocation count the zero-allocation tests read.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "test_support.h"
#include "perf/alloc_counter.h" // the same counter `smallmind bench` uses

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <new>
#include <unistd.h>

namespace smtest {

// The test binary lives in <repo>/bin/<config>/: the repository is two folders up.
static std::string repo_root() {
    static std::string root;
    if (root.empty()) {
        char buf[4096];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        std::string exe = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("./bin/x/y");
        for (int up = 0; up < 3; up++) exe = exe.substr(0, exe.find_last_of('/'));
        root = exe;
    }
    return root;
}

std::string repo_path(const std::string &rel) { return repo_root() + "/" + rel; }

std::string data_path(const std::string &name) { return repo_root() + "/tests/data/" + name; }

std::string reference_path(const std::string &rel) {
    // The outside references only: SM_SHARED_DIR/reference, or ../shared/reference beside the repository.
    const char *env = getenv("SM_SHARED_DIR");
    return (env && *env ? std::string(env) + "/reference/" : repo_root() + "/../shared/reference/") + rel;
}

void skipped(const std::string &reason) {
    printf("skipped: %s\n", reason.c_str());
    fflush(stdout);
}

std::string fixture(const std::string &name) {
    const std::string path = data_path(name);
    if (FILE *f = fopen(path.c_str(), "rb")) {
        fclose(f);
        return path;
    }
    FAIL("cannot read fixture " << path << ": " << strerror(errno));
    return path;
}

std::vector<uint8_t> read_fixture(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) FAIL("cannot read fixture " << path << ": " << strerror(errno));
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (!f.good() && !f.eof()) FAIL("cannot read fixture " << path);
    if (bytes.empty()) FAIL("fixture " << path << " is empty");
    return bytes;
}

std::string temp_path(const std::string &name) {
    static std::string dir;
    if (dir.empty()) {
        const char *t = getenv("TMPDIR");
        dir = std::string(t && *t ? t : "/tmp") + "/smallmind_tests_" + std::to_string(getpid());
        std::string cmd = "mkdir -p '" + dir + "'";
        if (system(cmd.c_str()) != 0) dir = "/tmp";
    }
    return dir + "/" + name;
}

std::vector<uint8_t> read_file(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_file(const std::string &path, const std::vector<uint8_t> &bytes) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

uint64_t heap_allocations() { return ::heap_allocations(); }

} // namespace smtest

// Prints "TESTCASES N passed, M failed" at the end: tests/run.sh adds up the suites.
struct CaseCounter : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    void testRunEnded(const Catch::TestRunStats &stats) override {
        const auto &c = stats.totals.testCases;
        printf("TESTCASES %llu passed, %llu failed\n", (unsigned long long)c.passed,
               (unsigned long long)(c.failed + c.failedButOk));
        fflush(stdout);
    }
};
CATCH_REGISTER_LISTENER(CaseCounter)

int main(int argc, char **argv) { return Catch::Session().run(argc, argv); }
