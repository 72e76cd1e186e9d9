// Every table compiled for this architecture, for tests and benchmarks that want them
// all (the runtime itself only calls kernels_for).
#pragma once
#include "core/cpu.h"
#include "kernels/kernels.h"

namespace sm::kern {

#if defined(__x86_64__)
extern const Kernels kAvx2Kernels;
extern const Kernels kAvx512Kernels;     // AVX-512 F/BW/DQ/VL
extern const Kernels kAvx512VnniKernels; // the same plus VNNI; identical results
#endif
#if defined(__aarch64__)
extern const Kernels kNeonKernels;    // Advanced SIMD
extern const Kernels kNeonDotKernels; // plus the dot-product extension; identical results
#endif

// Fills out[] with the compiled tables, the scalar one first; returns how many.
int all_tables(const Kernels *out[], int max);
// Whether this CPU can run table k.
bool can_run(const Kernels &k, const CpuFeatures &f);
// The best table of instruction set isa this CPU can run (kernels_for with detection).
const Kernels *kernels_for(sm_isa isa, const CpuFeatures &f);

} // namespace sm::kern
