// The train kernel tables this CPU can run: the scalar one first, then each SIMD one.
#pragma once
#include "core/cpu.h"
#include "kernels/train_kernels.h"

#include <vector>

namespace trt {

inline std::vector<const sm::kern::TrainKernels *> runnable_train_tables(bool with_scalar = true) {
    const sm::CpuFeatures f = sm::detect_cpu();
    std::vector<const sm::kern::TrainKernels *> tables;
    if (with_scalar) tables.push_back(&sm::kern::kRefTrainKernels);
    if (f.avx2 && f.fma) tables.push_back(sm::kern::train_kernels_for(SM_ISA_AVX2));
    if (f.avx512f) tables.push_back(sm::kern::train_kernels_for(SM_ISA_AVX512));
    if (f.neon) tables.push_back(sm::kern::train_kernels_for(SM_ISA_NEON));
    return tables;
}

} // namespace trt
