// Kernels::get_row of every table: one row of a weight matrix in either layout, as GGUF
// dequantizes it. Only the embedding is looked up per token; it is in Rows8 when tied to
// the classifier (model/weights.cpp), and then a row is read strided, 8 elements apart.
#include "kernels/kernels.h"
#include "quant/quant.h"

#include <cstring>

namespace sm::kern {

void matrix_row(const Matrix &w, int64_t r, float *out) {
    const bool ok = w.layout == Layout::Rows8 ? quant::rows8_row(w.type, w.data, r, w.cols, out)
                                              : quant::dequantize_row(w.type, w.row(r), out, w.cols);
    if (!ok) memset(out, 0, sizeof(float) * static_cast<size_t>(w.cols));
}

} // namespace sm::kern
