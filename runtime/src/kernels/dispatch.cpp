#include "kernels/tables.h"

namespace sm::kern {

int all_tables(const Kernels *out[], int max) {
    const Kernels *all[] = {
        &kRefKernels,
#if defined(__x86_64__)
        &kAvx2Kernels,
        &kAvx512Kernels,
        &kAvx512VnniKernels,
#endif
#if defined(__aarch64__)
        &kNeonKernels,
        &kNeonDotKernels,
#endif
    };
    int n = 0;
    for (const Kernels *k : all)
        if (n < max) out[n++] = k;
    return n;
}

bool can_run(const Kernels &k, const CpuFeatures &f) {
    if (!isa_supported(f, k.isa)) return false;
#if defined(__x86_64__)
    if (&k == &kAvx512VnniKernels) return f.avx512vnni;
#endif
#if defined(__aarch64__)
    if (&k == &kNeonDotKernels) return f.neon_dotprod;
#endif
    return true;
}

const Kernels *kernels_for(sm_isa isa, const CpuFeatures &f) {
    switch (isa) {
    case SM_ISA_SCALAR: return &kRefKernels;
#if defined(__x86_64__)
    case SM_ISA_AVX2: return &kAvx2Kernels;
    case SM_ISA_AVX512: return f.avx512vnni ? &kAvx512VnniKernels : &kAvx512Kernels;
#endif
#if defined(__aarch64__)
    case SM_ISA_NEON: return f.neon_dotprod ? &kNeonDotKernels : &kNeonKernels;
#endif
    default: return nullptr;
    }
}

// Picks the variant for the CPU it runs on (called once, at runtime creation).
const Kernels *kernels_for(sm_isa isa) { return kernels_for(isa, detect_cpu()); }

} // namespace sm::kern
