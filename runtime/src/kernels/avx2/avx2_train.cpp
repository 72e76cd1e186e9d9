// AVX2 train table: 6 x 16 product tiles (12 ymm accumulators).
#if defined(__x86_64__)
#include "kernels/x86/isa_avx2_begin.h"
#include "kernels/avx2/vec.h"
#include "kernels/common/train_table.h"

namespace sm::kern {
extern const TrainKernels kAvx2TrainKernels = train_table<VecAvx2, 6>("avx2");
} // namespace sm::kern
#include "kernels/x86/isa_end.h"
#endif
