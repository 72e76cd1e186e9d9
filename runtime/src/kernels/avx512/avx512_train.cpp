// AVX-512 train table: 12 x 32 product tiles (24 zmm accumulators).
#if defined(__x86_64__)
#include "kernels/x86/isa_avx512_begin.h"
#include "kernels/avx512/vec.h"
#include "kernels/common/train_table.h"

namespace sm::kern {
extern const TrainKernels kAvx512TrainKernels = train_table<VecAvx512, 12>("avx512");
} // namespace sm::kern
#include "kernels/x86/isa_end.h"
#endif
