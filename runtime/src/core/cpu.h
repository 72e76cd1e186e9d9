// What this CPU can run, read once at runtime creation.
#pragma once
#include "smallmind/smallmind.h"

namespace sm {

struct CpuFeatures {
    bool avx2 = false, fma = false, f16c = false;
    bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
    bool avx512vnni = false, avx512bf16 = false;
    bool neon = false, neon_dotprod = false;
};

CpuFeatures detect_cpu();
// The best instruction set the CPU supports among those compiled in.
sm_isa best_isa(const CpuFeatures &f);
bool isa_supported(const CpuFeatures &f, sm_isa isa);
const char *isa_name(sm_isa isa);

} // namespace sm
