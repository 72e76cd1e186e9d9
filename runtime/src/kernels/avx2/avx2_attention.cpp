// AVX2 attention (kernels/common/attention.h with 8-key chunks).
#if defined(__x86_64__)
#include "kernels/x86/isa_avx2_begin.h"
#include "kernels/avx2/api.h"
#include "kernels/avx2/vec.h"
#include "kernels/common/attention.h"

namespace sm::kern::avx2 {
void attention(const AttnArgs &a, int h0, int h1) { attention_v<VecAvx2>(a, h0, h1); }
} // namespace sm::kern::avx2
#include "kernels/x86/isa_end.h"
#endif
