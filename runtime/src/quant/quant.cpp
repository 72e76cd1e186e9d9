#include "quant/quant.h"

#include "quant/blocks.h"
#include "quant/fp16.h"

#include <algorithm>
#include <cmath>
#include <cstring>

// ggml's dequantization rounds d1 * q and then subtracts m1 (its x86 builds have no FMA
// in ggml-base); keep that on targets where FMA is baseline (AArch64) too.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#define SM_NO_CONTRACT
#elif defined(__GNUC__)
#define SM_NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define SM_NO_CONTRACT
#endif

namespace sm::quant {

namespace {
// ggml's nearest_int: round half to even for |x| < 2^22 (all our callers).
int nearest(float x) { return static_cast<int>(std::nearbyint(x)); }
int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }
} // namespace

void quantize_row_q8_0(const float *x, void *dst, int64_t n) {
    BlockQ8_0 *y = static_cast<BlockQ8_0 *>(dst);
    for (int64_t i = 0; i < n / kQK; i++, x += kQK) {
        float amax = 0.0f;
        for (int j = 0; j < kQK; j++) amax = std::fmax(amax, std::fabs(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_fp16(d);
        for (int j = 0; j < kQK; j++) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id)); // ties away, as roundf
    }
}

void quantize_row_q4_0(const float *x, void *dst, int64_t n) {
    BlockQ4_0 *y = static_cast<BlockQ4_0 *>(dst);
    for (int64_t i = 0; i < n / kQK; i++, x += kQK) {
        float amax = 0.0f, max = 0.0f; // the value of largest magnitude keeps its sign
        for (int j = 0; j < kQK; j++)
            if (amax < std::fabs(x[j])) {
                amax = std::fabs(x[j]);
                max = x[j];
            }
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_fp16(d);
        for (int j = 0; j < kQK / 2; j++) {
            // ggml truncates x*id + 8.5 towards zero (an int8_t cast), then caps at 15.
            const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
            const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j + kQK / 2] * id + 8.5f)));
            y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
        }
    }
}

// Per 32-element sub-block: x ~ sc * q - m with q in 0..15 and m >= 0; then the scales
// and mins are themselves quantized to 6 bits against the fp16 super-scales d, dmin.
void quantize_row_q4_K(const float *x, void *dst, int64_t n) {
    BlockQ4K *y = static_cast<BlockQ4K *>(dst);
    for (int64_t i = 0; i < n / kQKK; i++, x += kQKK) {
        float scale[8], mins[8], max_scale = 0.0f, max_min = 0.0f;
        for (int s = 0; s < 8; s++) {
            float lo = 0.0f, hi = 0.0f;
            for (int l = 0; l < 32; l++) {
                lo = std::fmin(lo, x[32 * s + l]);
                hi = std::fmax(hi, x[32 * s + l]);
            }
            scale[s] = (hi - lo) / 15.0f;
            mins[s] = -lo;
            max_scale = std::fmax(max_scale, scale[s]);
            max_min = std::fmax(max_min, mins[s]);
        }
        const uint16_t dh = f32_to_fp16(max_scale / 63.0f), mh = f32_to_fp16(max_min / 63.0f);
        const float d = fp16_to_f32(dh), dmin = fp16_to_f32(mh);
        uint8_t sc[8], mq[8];
        for (int s = 0; s < 8; s++) {
            sc[s] = static_cast<uint8_t>(d > 0 ? clampi(nearest(scale[s] / d), 0, 63) : 0);
            mq[s] = static_cast<uint8_t>(dmin > 0 ? clampi(nearest(mins[s] / dmin), 0, 63) : 0);
        }
        y[i].d = dh;
        y[i].dmin = mh;
        for (int j = 0; j < 4; j++) {
            y[i].scales[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
            y[i].scales[j + 4] = static_cast<uint8_t>((mq[j] & 63) | ((mq[j + 4] >> 4) << 6));
            y[i].scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mq[j + 4] & 0xF) << 4));
        }
        uint8_t q[kQKK];
        for (int s = 0; s < 8; s++) {
            const float ds = d * sc[s], ms = dmin * mq[s];
            for (int l = 0; l < 32; l++)
                q[32 * s + l] = static_cast<uint8_t>(ds > 0 ? clampi(nearest((x[32 * s + l] + ms) / ds), 0, 15) : 0);
        }
        for (int g = 0; g < 4; g++)
            for (int l = 0; l < 32; l++) y[i].qs[32 * g + l] = static_cast<uint8_t>(q[64 * g + l] | (q[64 * g + 32 + l] << 4));
    }
}

// Per 16-element sub-block a signed scale (amax / 31), quantized to int8 against d.
void quantize_row_q6_K(const float *x, void *dst, int64_t n) {
    BlockQ6K *y = static_cast<BlockQ6K *>(dst);
    for (int64_t i = 0; i < n / kQKK; i++, x += kQKK) {
        float scale[16], max_scale = 0.0f;
        for (int s = 0; s < 16; s++) {
            float amax = 0.0f;
            for (int l = 0; l < 16; l++) amax = std::fmax(amax, std::fabs(x[16 * s + l]));
            scale[s] = amax / 31.0f;
            max_scale = std::fmax(max_scale, scale[s]);
        }
        const uint16_t dh = f32_to_fp16(max_scale / 127.0f);
        const float d = fp16_to_f32(dh);
        uint8_t L[kQKK];
        for (int s = 0; s < 16; s++) {
            const int sc = d > 0 ? clampi(nearest(scale[s] / d), -128, 127) : 0;
            y[i].scales[s] = static_cast<int8_t>(sc);
            const float eff = d * static_cast<float>(sc);
            for (int l = 0; l < 16; l++)
                L[16 * s + l] = static_cast<uint8_t>((eff != 0 ? clampi(nearest(x[16 * s + l] / eff), -32, 31) : 0) + 32);
        }
        y[i].d = dh;
        for (int h = 0; h < 2; h++) {
            uint8_t *ql = y[i].ql + 64 * h, *qh = y[i].qh + 32 * h;
            const uint8_t *Lh = L + 128 * h;
            for (int l = 0; l < 32; l++) {
                ql[l] = static_cast<uint8_t>((Lh[l] & 0xF) | ((Lh[l + 64] & 0xF) << 4));
                ql[l + 32] = static_cast<uint8_t>((Lh[l + 32] & 0xF) | ((Lh[l + 96] & 0xF) << 4));
                qh[l] = static_cast<uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                                             ((Lh[l + 96] >> 4) << 6));
            }
        }
    }
}

void dequantize_row_q8_0(const void *src, float *y, int64_t n) {
    const BlockQ8_0 *x = static_cast<const BlockQ8_0 *>(src);
    for (int64_t i = 0; i < n / kQK; i++) {
        const float d = fp16_to_f32(x[i].d);
        for (int j = 0; j < kQK; j++) y[i * kQK + j] = static_cast<float>(x[i].qs[j]) * d;
    }
}

void dequantize_row_q4_0(const void *src, float *y, int64_t n) {
    const BlockQ4_0 *x = static_cast<const BlockQ4_0 *>(src);
    for (int64_t i = 0; i < n / kQK; i++) {
        const float d = fp16_to_f32(x[i].d);
        for (int j = 0; j < kQK / 2; j++) {
            y[i * kQK + j] = static_cast<float>((x[i].qs[j] & 0xF) - 8) * d;
            y[i * kQK + j + kQK / 2] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

SM_NO_CONTRACT void dequantize_row_q4_K(const void *src, float *y, int64_t n) {
    const BlockQ4K *x = static_cast<const BlockQ4K *>(src);
    for (int64_t i = 0; i < n / kQKK; i++) {
        const float d = fp16_to_f32(x[i].d), dmin = fp16_to_f32(x[i].dmin);
        const uint8_t *q = x[i].qs;
        for (int g = 0; g < 4; g++, q += 32) {
            uint8_t sc, m;
            scale_min_k4(2 * g, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            scale_min_k4(2 * g + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
        }
    }
}

void dequantize_row_q6_K(const void *src, float *y, int64_t n) {
    const BlockQ6K *x = static_cast<const BlockQ6K *>(src);
    for (int64_t i = 0; i < n / kQKK; i++) {
        const float d = fp16_to_f32(x[i].d);
        for (int h = 0; h < 2; h++, y += 128) {
            const uint8_t *ql = x[i].ql + 64 * h, *qh = x[i].qh + 32 * h;
            const int8_t *sc = x[i].scales + 8 * h;
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                // (d * scale) * q, in that order, as ggml.
                y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
                y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
                y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
                y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
            }
        }
    }
}

bool type_convertible(TensorType t) {
    switch (t) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16:
    case TensorType::Q8_0:
    case TensorType::Q4_0:
    case TensorType::Q4_K:
    case TensorType::Q6_K: return true;
    default: return false;
    }
}

bool quantize_rows(TensorType t, const float *src, void *dst, int64_t rows, int64_t cols) {
    const size_t rb = row_bytes(t, cols);
    if (!type_convertible(t) || rb == 0) return false;
    for (int64_t r = 0; r < rows; r++) {
        const float *x = src + r * cols;
        uint8_t *out = static_cast<uint8_t *>(dst) + static_cast<size_t>(r) * rb;
        switch (t) {
        case TensorType::F32: memcpy(out, x, rb); break;
        case TensorType::F16:
            for (int64_t k = 0; k < cols; k++) {
                const uint16_t h = f32_to_fp16(x[k]);
                memcpy(out + 2 * k, &h, 2);
            }
            break;
        case TensorType::BF16:
            for (int64_t k = 0; k < cols; k++) {
                const uint16_t h = f32_to_bf16(x[k]);
                memcpy(out + 2 * k, &h, 2);
            }
            break;
        case TensorType::Q8_0: quantize_row_q8_0(x, out, cols); break;
        case TensorType::Q4_0: quantize_row_q4_0(x, out, cols); break;
        case TensorType::Q4_K: quantize_row_q4_K(x, out, cols); break;
        case TensorType::Q6_K: quantize_row_q6_K(x, out, cols); break;
        default: return false;
        }
    }
    return true;
}

bool dequantize_row(TensorType t, const void *src, float *dst, int64_t n) {
    if (!type_convertible(t) || row_bytes(t, n) == 0) return false;
    const uint8_t *in = static_cast<const uint8_t *>(src);
    switch (t) {
    case TensorType::F32: memcpy(dst, in, static_cast<size_t>(n) * 4); break;
    case TensorType::F16:
        for (int64_t k = 0; k < n; k++) {
            uint16_t h;
            memcpy(&h, in + 2 * k, 2);
            dst[k] = fp16_to_f32(h);
        }
        break;
    case TensorType::BF16:
        for (int64_t k = 0; k < n; k++) {
            uint16_t h;
            memcpy(&h, in + 2 * k, 2);
            dst[k] = bf16_to_f32(h);
        }
        break;
    case TensorType::Q8_0: dequantize_row_q8_0(src, dst, n); break;
    case TensorType::Q4_0: dequantize_row_q4_0(src, dst, n); break;
    case TensorType::Q4_K: dequantize_row_q4_K(src, dst, n); break;
    case TensorType::Q6_K: dequantize_row_q6_K(src, dst, n); break;
    default: return false;
    }
    return true;
}

void dequantize_int8_groups(const void *src, float *y, int64_t n, uint32_t group) {
    const int8_t *q = static_cast<const int8_t *>(src);
    const uint8_t *scales = static_cast<const uint8_t *>(src) + n;
    for (int64_t g = 0; g < n / group; g++) {
        float s;
        memcpy(&s, scales + 4 * g, 4);
        for (uint32_t i = 0; i < group; i++) y[g * group + i] = q[g * group + i] * s;
    }
}

namespace {
// Bytes of one element of the float types Rows8 interleaves element by element; 0 else.
size_t rows8_elem_bytes(TensorType t) { return t == TensorType::F32 ? 4 : t == TensorType::F16 || t == TensorType::BF16 ? 2 : 0; }
bool rows8_shape(TensorType t, int64_t rows, int64_t cols) {
    if (rows % 8 != 0 || cols <= 0) return false;
    if (rows8_elem_bytes(t)) return true;
    return (t == TensorType::Q8_0 || t == TensorType::Q4_0) && cols % 32 == 0;
}
} // namespace

bool interleave_rows8(TensorType t, const void *src, void *dst, int64_t rows, int64_t cols) {
    if (!rows8_shape(t, rows, cols)) return false;
    if (const size_t es = rows8_elem_bytes(t)) { // group g, column k, row j: element g*8*cols + 8*k + j
        const uint8_t *in = static_cast<const uint8_t *>(src);
        uint8_t *out = static_cast<uint8_t *>(dst);
        for (int64_t g = 0; g < rows; g += 8, in += 8 * cols * es)
            for (int64_t k = 0; k < cols; k++)
                for (int j = 0; j < 8; j++, out += es) memcpy(out, in + (j * cols + k) * es, es);
        return true;
    }
    const size_t bs = t == TensorType::Q8_0 ? 34 : 18, qbytes = bs - 2, rb = row_bytes(t, cols);
    const int64_t nb = cols / 32;
    const uint8_t *in = static_cast<const uint8_t *>(src);
    uint8_t *out = static_cast<uint8_t *>(dst);
    for (int64_t g = 0; g < rows; g += 8) {
        const uint8_t *rows_in = in + static_cast<size_t>(g) * rb;
        for (int64_t b = 0; b < nb; b++, out += 8 * bs) {
            for (int j = 0; j < 8; j++) memcpy(out + 2 * j, rows_in + j * rb + static_cast<size_t>(b) * bs, 2);
            // Vector v, lane j (4 bytes) = row j's quant bytes 4v..4v+3.
            for (size_t v = 0; v < qbytes / 4; v++)
                for (int j = 0; j < 8; j++)
                    memcpy(out + 16 + 32 * v + 4 * j, rows_in + j * rb + static_cast<size_t>(b) * bs + 2 + 4 * v, 4);
        }
    }
    return true;
}

bool rows8_row(TensorType t, const void *data, int64_t r, int64_t cols, float *dst) {
    if (r < 0 || !rows8_shape(t, r / 8 * 8 + 8, cols)) return false;
    const int j = static_cast<int>(r % 8);
    const uint8_t *group = static_cast<const uint8_t *>(data) + static_cast<size_t>(r / 8) * 8 * row_bytes(t, cols);
    if (const size_t es = rows8_elem_bytes(t)) { // gathered a chunk at a time, then converted
        uint8_t tmp[64 * 4];
        for (int64_t k0 = 0; k0 < cols; k0 += 64) {
            const int64_t n = cols - k0 < 64 ? cols - k0 : 64;
            for (int64_t k = 0; k < n; k++) memcpy(tmp + k * es, group + ((k0 + k) * 8 + j) * es, es);
            dequantize_row(t, tmp, dst + k0, n);
        }
        return true;
    }
    // Each block of the row back in GGUF's order (scale, quants), then ggml's dequantization.
    const size_t bs = t == TensorType::Q8_0 ? 34 : 18, qbytes = bs - 2;
    uint8_t blk[34];
    for (int64_t b = 0; b < cols / 32; b++) {
        const uint8_t *in = group + static_cast<size_t>(b) * 8 * bs;
        memcpy(blk, in + 2 * j, 2);
        for (size_t v = 0; v < qbytes / 4; v++) memcpy(blk + 2 + 4 * v, in + 16 + 32 * v + 4 * j, 4);
        dequantize_row(t, blk, dst + 32 * b, 32);
    }
    return true;
}

} // namespace sm::quant
