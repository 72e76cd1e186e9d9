// NEON train table: 8 x 8 product tiles (16 of the 32 q registers). NEON is baseline on
// AArch64: no target region.
#if defined(__aarch64__)
#include "kernels/neon/vec.h"
#include "kernels/common/train_table.h"

namespace sm::kern {
extern const TrainKernels kNeonTrainKernels = train_table<VecNeon, 8>("neon");
} // namespace sm::kern
#endif
