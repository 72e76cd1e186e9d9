// Clocks the benchmarks read besides the wall clock.
#pragma once
#include <cstdio>
#include <ctime>
#include <unistd.h>

// The calling thread's CPU time in µs (0 where the clock is missing). It leaves out time
// the guest's scheduler gave to other threads, but on a VM without steal-time accounting
// it still counts time the hypervisor took the virtual CPU away.
inline double thread_cpu_us() {
#if defined(CLOCK_THREAD_CPUTIME_ID)
    timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
#endif
    return 0;
}

// Seconds of steal (time the hypervisor ran something else on this guest's virtual CPUs,
// all of them summed) since boot, from /proc/stat; -1 where it cannot be read.
inline double steal_seconds() {
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return -1;
    unsigned long long v[8] = {0};
    const int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                         &v[7]);
    fclose(f);
    const long hz = sysconf(_SC_CLK_TCK);
    return n == 8 && hz > 0 ? static_cast<double>(v[7]) / static_cast<double>(hz) : -1;
}
