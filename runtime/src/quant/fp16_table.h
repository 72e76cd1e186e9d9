// Every IEEE half as a float (fp16_to_f32, so F16C's conversion exactly), for kernels
// that convert scattered block scales with two loads (a 16-bit load, then a table load
// that can broadcast) instead of a port-5 instruction sequence. 256 KiB, filled once
// during static initialisation; only the entries real scales use are ever touched.
#pragma once
#include <cstdint>

namespace sm::quant {

extern const float *const kF16;

} // namespace sm::quant
