// Catch2 runner plus the allocation counter the zero-allocation tests read.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "test_support.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <new>
#include <unistd.h>

namespace {
std::atomic<uint64_t> g_allocs{0};
}

// Every malloc-family call our objects make is routed here by -Wl,--wrap (premake5.lua).
extern "C" {
void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
int __real_posix_memalign(void **, size_t, size_t);
void *__real_aligned_alloc(size_t, size_t);
void *__real_mi_malloc_aligned(size_t, size_t);
void *__wrap_malloc(size_t n) { g_allocs++; return __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { g_allocs++; return __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { g_allocs++; return __real_realloc(p, n); }
int __wrap_posix_memalign(void **p, size_t a, size_t n) { g_allocs++; return __real_posix_memalign(p, a, n); }
void *__wrap_aligned_alloc(size_t a, size_t n) { g_allocs++; return __real_aligned_alloc(a, n); }
void *__wrap_mi_malloc_aligned(size_t n, size_t a) { g_allocs++; return __real_mi_malloc_aligned(n, a); }
}

// Every operator new, wherever it is called from (including libstdc++). Not under
// AddressSanitizer, whose own operator new must pair with its operator delete; there
// only the malloc-family wraps count (the release run checks both).
#if !defined(__SANITIZE_ADDRESS__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void *operator new(size_t n) {
    g_allocs++;
    if (void *p = __real_malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void *operator new[](size_t n) { return operator new(n); }
void *operator new(size_t n, const std::nothrow_t &) noexcept { g_allocs++; return __real_malloc(n ? n : 1); }
void *operator new[](size_t n, const std::nothrow_t &) noexcept { g_allocs++; return __real_malloc(n ? n : 1); }
void *operator new(size_t n, std::align_val_t a) {
    g_allocs++;
    void *p = nullptr;
    if (__real_posix_memalign(&p, static_cast<size_t>(a) < sizeof(void *) ? sizeof(void *) : static_cast<size_t>(a), n ? n : 1) == 0) return p;
    throw std::bad_alloc();
}
void *operator new[](size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void *p) noexcept { free(p); }
void operator delete[](void *p) noexcept { free(p); }
void operator delete(void *p, size_t) noexcept { free(p); }
void operator delete[](void *p, size_t) noexcept { free(p); }
void operator delete(void *p, std::align_val_t) noexcept { free(p); }
void operator delete[](void *p, std::align_val_t) noexcept { free(p); }
void operator delete(void *p, size_t, std::align_val_t) noexcept { free(p); }
void operator delete[](void *p, size_t, std::align_val_t) noexcept { free(p); }
#endif

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

std::string shared_path(const std::string &rel) {
    const char *env = getenv("SM_SHARED_DIR");
    std::string base = env && *env ? env : repo_root() + "/../shared";
    return base + "/" + rel;
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

uint64_t heap_allocations() { return g_allocs.load(); }

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
