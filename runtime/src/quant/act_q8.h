// The activation format of the Q8_0 / Q4_0 integer kernels (every table uses it).
//
// One row of K floats becomes nb = K/32 blocks of 32 int8 with a float scale and the
// block's integer sum (Q4_0 stores q+8 unsigned; the sum undoes the offset). The row is
// laid out in three arrays so that two consecutive blocks are one 64-byte load:
//   qs[nbp * 32] | d[nbp] floats | sum[nbp] int32      with nbp = nb rounded up to even,
// the padding block all zero.
// Quantization: d = amax / 127, q = round-half-even(x * (1/d)). Every table's
// prepare_act must produce these exact bytes (tests check it).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sm::quant {

struct ActQ8Layout {
    int nb = 0, nbp = 0;
    size_t d_off = 0, sum_off = 0, bytes = 0;
};

inline ActQ8Layout act_q8_layout(int K) {
    ActQ8Layout l;
    l.nb = K / 32;
    l.nbp = (l.nb + 1) & ~1;
    l.d_off = static_cast<size_t>(l.nbp) * 32;
    l.sum_off = l.d_off + static_cast<size_t>(l.nbp) * 4;
    l.bytes = l.sum_off + static_cast<size_t>(l.nbp) * 4;
    return l;
}

// Row m of a prepared activation matrix (rows row_bytes apart), as its three arrays.
struct ActQ8Row {
    const uint8_t *qs;
    const float *d;
    const int32_t *sum;
};

inline ActQ8Row act_q8_row(const void *act, size_t row_bytes, int m, const ActQ8Layout &l) {
    const uint8_t *r = static_cast<const uint8_t *>(act) + static_cast<size_t>(m) * row_bytes;
    return {r, reinterpret_cast<const float *>(r + l.d_off), reinterpret_cast<const int32_t *>(r + l.sum_off)};
}

// The scalar definition of the format.
inline void quantize_act_q8(const float *x, int K, void *row) {
    const ActQ8Layout l = act_q8_layout(K);
    uint8_t *base = static_cast<uint8_t *>(row);
    int8_t *qs = reinterpret_cast<int8_t *>(base);
    memset(base, 0, l.bytes);
    for (int b = 0; b < l.nb; b++) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = std::fmax(amax, std::fabs(x[32 * b + j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        int32_t sum = 0;
        for (int j = 0; j < 32; j++) {
            const int q = static_cast<int>(std::nearbyint(x[32 * b + j] * id));
            qs[32 * b + j] = static_cast<int8_t>(q);
            sum += q;
        }
        memcpy(base + l.d_off + 4 * static_cast<size_t>(b), &d, 4);
        memcpy(base + l.sum_off + 4 * static_cast<size_t>(b), &sum, 4);
    }
}

} // namespace sm::quant
