// Catch2 runner of the kernel tests alone (the `kernel_tests` project: statically linked,
// run under qemu for other architectures). tests/kernels needs nothing else from
// tests/main.cpp: no fixtures, no allocation counter.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "core/cpu.h"

#include <cstdio>

// Prints "TESTCASES N passed, M failed" at the end, as tests/main.cpp does.
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

int main(int argc, char **argv) {
    const sm::CpuFeatures f = sm::detect_cpu();
    printf("cpu: neon %d dotprod %d avx2 %d avx512 %d vnni %d\n", f.neon, f.neon_dotprod, f.avx2, f.avx512f, f.avx512vnni);
    return Catch::Session().run(argc, argv);
}
