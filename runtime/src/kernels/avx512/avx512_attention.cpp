// AVX-512 attention (kernels/common/attention.h with 16-key chunks).
#if defined(__x86_64__)
#include "kernels/x86/isa_avx512_begin.h"
#include "kernels/avx512/api.h"
#include "kernels/avx512/vec.h"
#include "kernels/common/attention.h"

namespace sm::kern::avx512 {
void attention(const AttnArgs &a, int h0, int h1) { attention_v<VecAvx512>(a, h0, h1); }
} // namespace sm::kern::avx512
#include "kernels/x86/isa_end.h"
#endif
