#include "quant/fp16_table.h"

#include "quant/fp16.h"

namespace sm::quant {
namespace {

struct F16Table {
    alignas(64) float f[1 << 16];
    F16Table() {
        for (uint32_t h = 0; h < (1u << 16); h++) f[h] = fp16_to_f32(static_cast<uint16_t>(h));
    }
};

const F16Table table;

} // namespace

const float *const kF16 = table.f;

} // namespace sm::quant
