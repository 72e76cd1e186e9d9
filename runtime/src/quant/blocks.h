// GGUF quantized block layouts, byte for byte as ggml defines them (ggml-common.h),
// plus the activation block SmallMind's integer kernels read.
#pragma once
#include <cstdint>
#include <cstring>

namespace sm::quant {

// Fields of packed blocks, read unaligned (blocks are 2-byte aligned at best).
inline uint16_t read_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}
inline int32_t read_i32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

constexpr int kQK = 32;   // elements per Q8_0 / Q4_0 block
constexpr int kQKK = 256; // elements per K-quant super-block

// Q8_0: x[j] = d * qs[j].
struct BlockQ8_0 {
    uint16_t d; // fp16
    int8_t qs[kQK];
};

// Q4_0: x[j] = d * ((qs[j] & 15) - 8), x[j + 16] = d * ((qs[j] >> 4) - 8), j < 16.
struct BlockQ4_0 {
    uint16_t d; // fp16
    uint8_t qs[kQK / 2];
};

// Q4_K: 8 sub-blocks of 32 with 6-bit scales and mins packed in 12 bytes
// (see scale_min_k4); within each 64-element group the low nibbles of qs[0..31] are the
// first 32 elements and the high nibbles the next 32. x = d*sc*q - dmin*m.
struct BlockQ4K {
    uint16_t d, dmin; // fp16
    uint8_t scales[12];
    uint8_t qs[kQKK / 2];
};

// Q6_K: 16 sub-blocks of 16 with int8 scales; 4 low bits in ql, 2 high bits in qh.
// x = d * scales[s] * (q - 32).
struct BlockQ6K {
    uint8_t ql[kQKK / 2];
    uint8_t qh[kQKK / 4];
    int8_t scales[kQKK / 16];
    uint16_t d; // fp16
};

static_assert(sizeof(BlockQ8_0) == 34, "ggml block_q8_0");
static_assert(sizeof(BlockQ4_0) == 18, "ggml block_q4_0");
static_assert(sizeof(BlockQ4K) == 144, "ggml block_q4_K");
static_assert(sizeof(BlockQ6K) == 210, "ggml block_q6_K");

// Scale and min j (0..7) of a Q4_K super-block, as ggml's get_scale_min_k4.
inline void scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// The quant of element e (0..255) of a Q4_K super-block: 0..15.
inline int q4k_quant(const BlockQ4K &b, int e) {
    const uint8_t byte = b.qs[32 * (e / 64) + e % 32];
    return (e % 64) < 32 ? byte & 0xF : byte >> 4;
}

// The quant of element e (0..255) of a Q6_K super-block, minus 32: -32..31.
inline int q6k_quant(const BlockQ6K &b, int e) {
    const int h = e / 128, jj = e % 128, qd = jj / 32, l = jj % 32;
    const int lo = (b.ql[64 * h + l + 32 * (qd & 1)] >> (4 * (qd >> 1))) & 0xF;
    const int hi = (b.qh[32 * h + l] >> (2 * qd)) & 3;
    return (lo | hi << 4) - 32;
}

} // namespace sm::quant
