// NEON attention (kernels/common/attention.h with 4-key chunks).
#if defined(__aarch64__)
#include "kernels/neon/api.h"
#include "kernels/neon/vec.h"
#include "kernels/common/attention.h"

namespace sm::kern::neon {
void attention(const AttnArgs &a, int h0, int h1) { attention_v<VecNeon>(a, h0, h1); }
} // namespace sm::kern::neon
#endif
