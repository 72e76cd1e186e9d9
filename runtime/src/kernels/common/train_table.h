// A train kernel table over a vector traits type V with MR-row product tiles: each ISA's
// file instantiates it inside its target region (kernels/train_kernels.h).
#pragma once
#include "kernels/common/gemm_train.h"
#include "kernels/common/train_eltwise.h"

namespace sm::kern {
namespace {

template <class V, int MR> constexpr TrainKernels train_table(const char *name) {
    return TrainKernels{name, gemm_train_t<V, MR, false>, gemm_train_t<V, MR, true>, swiglu_forward_v<V>, swiglu_backward_v<V>};
}

} // namespace
} // namespace sm::kern
