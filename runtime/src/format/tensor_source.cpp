#include "format/model_file.h"
#include "quant/quant.h"

namespace sm {

bool tensor_to_f32(const TensorSource &t, float *dst) {
    if (t.l2c_group) {
        quant::dequantize_int8_groups(t.data, dst, t.ne0 * t.ne1, t.l2c_group);
        return true;
    }
    const size_t rb = row_bytes(t.type, t.ne0);
    for (int64_t r = 0; r < t.ne1; r++)
        if (!quant::dequantize_row(t.type, t.data + static_cast<size_t>(r) * rb, dst + r * t.ne0, t.ne0)) return false;
    return true;
}

} // namespace sm
