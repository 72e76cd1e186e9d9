#include "core/cpu.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define SM_X86 1
#elif defined(__aarch64__)
#include <sys/auxv.h>
#define SM_ARM64 1
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

namespace sm {

CpuFeatures detect_cpu() {
    CpuFeatures f;
#if SM_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    bool osxsave = c & (1u << 27);
    bool has_avx = c & (1u << 28);
    f.fma = c & (1u << 12);
    f.f16c = c & (1u << 29);
    unsigned long long xcr0 = 0;
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
    }
    bool ymm_os = (xcr0 & 0x6) == 0x6;   // the OS saves XMM and YMM state
    bool zmm_os = (xcr0 & 0xe6) == 0xe6; // ... and opmask + ZMM state
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        f.avx2 = has_avx && ymm_os && (b & (1u << 5));
        f.avx512f = zmm_os && (b & (1u << 16));
        f.avx512dq = f.avx512f && (b & (1u << 17));
        f.avx512bw = f.avx512f && (b & (1u << 30));
        f.avx512vl = f.avx512f && (b & (1u << 31));
        f.avx512vnni = f.avx512f && (c & (1u << 11));
    }
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avx512bf16 = f.avx512f && (a & (1u << 5));
    if (!ymm_os) f.fma = f.f16c = false;
#elif SM_ARM64
    f.neon = true;
    f.neon_dotprod = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
    return f;
}

bool isa_supported(const CpuFeatures &f, sm_isa isa) {
    switch (isa) {
    case SM_ISA_SCALAR: return true;
#if SM_X86
    case SM_ISA_AVX2: return f.avx2 && f.fma && f.f16c;
    case SM_ISA_AVX512: return f.avx2 && f.fma && f.f16c && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl;
#elif SM_ARM64
    case SM_ISA_NEON: return f.neon;
#endif
    default: return false;
    }
}

sm_isa best_isa(const CpuFeatures &f) {
    const sm_isa order[] = {SM_ISA_AVX512, SM_ISA_AVX2, SM_ISA_NEON};
    for (sm_isa isa : order)
        if (isa_supported(f, isa)) return isa;
    return SM_ISA_SCALAR;
}

const char *isa_name(sm_isa isa) {
    switch (isa) {
    case SM_ISA_AUTO: return "auto";
    case SM_ISA_SCALAR: return "scalar";
    case SM_ISA_AVX2: return "avx2";
    case SM_ISA_AVX512: return "avx512";
    case SM_ISA_NEON: return "neon";
    }
    return "?";
}

} // namespace sm
