// AVX2 Q8_0 / Q4_0 weights times 8-bit activations (quant/act_q8.h). Include only between
// isa_avx2_begin.h and isa_end.h.
//
// The arithmetic (for every M and row range, and the same as the AVX-512 tables'
// kernels/avx512/q0.h): per output y[m][n], over the 32-element blocks b in increasing order,
//   S_b = the exact integer dot product of block b (Q4_0: of q - 8)
//   acc = fma(float(S_b), d_w(b) * d_x(b), acc)          (acc starts at 0; y = acc)
// Exact block sums make every way of forming S_b equivalent, which lets the two shapes
// differ and still give the same bits:
//   GEMV (M < kPackedGemmMinRows): 8 weight rows at a time; per block one int32 vector per row
//     (vpmaddubsw + vpmaddwd: lane i = bytes 4i..4i+3), reduced across lanes by unpacks
//     and adds to one vector of the 8 rows' block sums: one fma per block for 8 outputs.
//   GEMM: the 8 rows' blocks are transposed once into a panel where lane j of vector g
//     holds row j's bytes 4g..4g+3, and each activation row's 4 bytes are broadcast
//     (vpbroadcastd from memory) against it: the block sums form in the lanes, no
//     cross-lane work per activation row. Q4_0 nibbles are unsigned, so their vpmaddubsw
//     pairs (|2 * 15 * 127| = 3810) add up exactly in int16 over a whole block (8 * 3810
//     < 2^15) before one vpmaddwd: 8 + 7 + 1 integer instructions per block for 8 outputs,
//     where per-row dot products take 2 per output and a float conversion each.
// Q8_0 takes |w| against x with w's sign (pairs 2 * 128 * 127 < 2^15, -128 included).
#pragma once
#include "kernels/avx2/vec.h"
#include "kernels/common/prefetch.h"
#include "kernels/common/unroll.h"
#include "kernels/kernels.h"
#include "quant/act_q8.h"
#include "quant/blocks.h"

#include <cstdint>
#include <cstring>

namespace sm::kern {
namespace {

// Activation rows from which the packed GEMM runs instead of the GEMV (both read Q8Rows
// activations): fewer rows do not pay back the transpose into a panel.
constexpr int kPackedGemmMinRows = 4;
constexpr int kQ0Chunk = 16;            // blocks per panel (Q8_0: 16 x 512 B = 8 KiB, stays in L1)
constexpr int kQ0RowBlock = 64;         // activation rows kept hot in L2 while panels go by
constexpr size_t kQ0AheadBytes = 16384; // weight prefetch lead (8-row groups are 8 short streams)
// Rows8 Q8_0 GEMM: chunks of up to this many activation rows read the group in place
// instead of packing it (same bits): a few rows (batched decode) cannot amortize the
// packing, while more would re-read the group and redo |w| per 4-row tile. Q4_0 always
// packs: its nibbles need splitting, which the packed panel does once for all tiles.
constexpr int kQ0InPlaceRows = 8;

template <bool Q8> constexpr int q0_bs() { return Q8 ? 34 : 18; }

// The 32 values of one block as bytes: Q8_0 signed weights, Q4_0 unsigned nibbles q
// (elements 0..15 are the low nibbles, 16..31 the high ones, as ggml orders them).
template <bool Q8> inline __m256i q0_block_bytes(const uint8_t *blk) {
    if constexpr (Q8) {
        return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(blk + 2));
    } else {
        // Both halves from one broadcast load; the high half shifted by 4 (per 64 bits).
        const __m256i t = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i *>(blk + 2)));
        return _mm256_and_si256(_mm256_srlv_epi64(t, _mm256_setr_epi64x(0, 0, 4, 4)), _mm256_set1_epi8(15));
    }
}

// Lane i: the exact sum of products of bytes 4i..4i+3 of one row's block and x.
template <bool Q8> inline __m256i q0_row_dot(__m256i w, __m256i x) {
    const __m256i ones = _mm256_set1_epi16(1);
    if constexpr (Q8) return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(x, w)), ones);
    else return _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), ones);
}

// One reduction level: interleave a and b by U-bit units and add as E-bit integers, so
// every output lane holds the sum of two lanes of the same input row.
template <int U, int E> inline __m256i q0_fold(__m256i a, __m256i b) {
    __m256i lo, hi;
    if constexpr (U == 16) lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);
    else if constexpr (U == 32) lo = _mm256_unpacklo_epi32(a, b), hi = _mm256_unpackhi_epi32(a, b);
    else lo = _mm256_unpacklo_epi64(a, b), hi = _mm256_unpackhi_epi64(a, b);
    if constexpr (E == 16) return _mm256_add_epi16(lo, hi);
    else return _mm256_add_epi32(lo, hi);
}

// Lane j: the sum of v[j]'s eight int32 lanes (integers: any order is exact). Per 128-bit
// half, rows pair up ([A0+A2, B0+B2, A1+A3, B1+B3]), then quadruple ([A, B, C, D]); the
// two halves add last: [rows 0..3 | rows 4..7].
inline __m256i q0_reduce8(const __m256i v[8]) {
    const __m256i c0 = q0_fold<64, 32>(q0_fold<32, 32>(v[0], v[1]), q0_fold<32, 32>(v[2], v[3]));
    const __m256i c1 = q0_fold<64, 32>(q0_fold<32, 32>(v[4], v[5]), q0_fold<32, 32>(v[6], v[7]));
    return _mm256_add_epi32(_mm256_permute2x128_si256(c0, c1, 0x20), _mm256_permute2x128_si256(c0, c1, 0x31));
}

// Q4_0: lane j = the sum of v[j]'s sixteen int16 lanes (vpmaddubsw pairs of nibbles, at
// most 3810 each). Three levels add 8 pairs per half in int16 (at most 30480, exact); the
// halves are widened to int32 before the last add. Saves a vpmaddwd per row.
inline __m256i q0_reduce8_i16(const __m256i v[8]) {
    const __m256i b0 = q0_fold<32, 16>(q0_fold<16, 16>(v[0], v[1]), q0_fold<16, 16>(v[2], v[3]));
    const __m256i b1 = q0_fold<32, 16>(q0_fold<16, 16>(v[4], v[5]), q0_fold<16, 16>(v[6], v[7]));
    const __m256i c = q0_fold<64, 16>(b0, b1); // per half: int16 lanes [r0 .. r7]
    return _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(c)),
                            _mm256_cvtepi16_epi32(_mm256_extracti128_si256(c, 1)));
}

// The fp16 scales of rows r0..r0+nr-1 for blocks b0..b0+nblk-1, as floats [block][8]
// (rows past nr: 0). Gathered once per group, so no vector waits on eight scalar stores.
template <bool Q8> void q0_scales(const uint8_t *r0, size_t rb, int nr, int b0, int nblk, float *out) {
    constexpr int bs = q0_bs<Q8>();
    alignas(32) uint16_t h[kQ0Chunk * 8];
    const uint8_t *p = r0 + static_cast<size_t>(b0) * bs;
    if (nr == 8) {
        for (int c = 0; c < nblk; c++, p += bs) SM_UNROLL for (int j = 0; j < 8; j++) h[c * 8 + j] = quant::read_u16(p + j * rb);
    } else {
        for (int c = 0; c < nblk; c++, p += bs)
            for (int j = 0; j < 8; j++) h[c * 8 + j] = j < nr ? quant::read_u16(p + j * rb) : 0;
    }
    for (int c = 0; c < nblk; c++)
        _mm256_store_ps(out + 8 * c, _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i *>(h + 8 * c))));
}

inline void q0_store(float *y, __m256 v, int nr) {
    if (nr == 8) _mm256_storeu_ps(y, v);
    else VecAvx2::store_n(y, v, nr);
}

// ================================================================== GEMV

template <bool Q8, bool Full> void q0_gemv_group(const Matrix &w, const uint8_t *act, size_t arb, const quant::ActQ8Layout &l,
                                                 int M, float *y, int64_t ldy, int n, int nr) {
    constexpr int bs = q0_bs<Q8>();
    const size_t rb = w.row_bytes;
    const uint8_t *r0 = w.row(n);
    for (int m = 0; m < M; m++) {
        const quant::ActQ8Row x_m = quant::act_q8_row(act, arb, m, l);
        __m256 acc = _mm256_setzero_ps();
        for (int b0 = 0; b0 < l.nb; b0 += kQ0Chunk) {
            const int nblk = l.nb - b0 < kQ0Chunk ? l.nb - b0 : kQ0Chunk;
            alignas(32) float ws[kQ0Chunk * 8];
            q0_scales<Q8>(r0, rb, nr, b0, nblk, ws);
            for (int c = 0; c < nblk; c++) {
                const int b = b0 + c;
                if (m == 0)
                    for (int o = 0; o < 8 * bs; o += 64) prefetch_ahead(r0, kQ0AheadBytes + static_cast<size_t>(b) * 8 * bs + o);
                const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x_m.qs + 32 * b));
                __m256i v[8], s;
                if constexpr (Q8) {
                    SM_UNROLL for (int j = 0; j < 8; j++) {
                        if (Full || j < nr)
                            v[j] = q0_row_dot<Q8>(q0_block_bytes<Q8>(r0 + j * rb + static_cast<size_t>(b) * bs), x);
                        else v[j] = _mm256_setzero_si256();
                    }
                    s = q0_reduce8(v);
                } else {
                    SM_UNROLL for (int j = 0; j < 8; j++) {
                        if (Full || j < nr)
                            v[j] = _mm256_maddubs_epi16(q0_block_bytes<Q8>(r0 + j * rb + static_cast<size_t>(b) * bs), x);
                        else v[j] = _mm256_setzero_si256();
                    }
                    s = _mm256_sub_epi32(q0_reduce8_i16(v), _mm256_set1_epi32(8 * x_m.sum[b]));
                }
                acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(_mm256_load_ps(ws + 8 * c), _mm256_set1_ps(x_m.d[b])),
                                      acc);
            }
        }
        q0_store(y + m * ldy + n, acc, nr);
    }
}

template <bool Q8> void q0_gemv(const Matrix &w, const uint8_t *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    const quant::ActQ8Layout l = quant::act_q8_layout(w.cols);
    for (int n = n0; n < n1; n += 8) {
        const int nr = n1 - n < 8 ? n1 - n : 8;
        if (nr == 8) q0_gemv_group<Q8, true>(w, act, arb, l, M, y, ldy, n, 8);
        else q0_gemv_group<Q8, false>(w, act, arb, l, M, y, ldy, n, nr);
    }
}

// ================================================================== GEMM

// Vectors per block in the panel: Q8_0 keeps |w| and w (for the sign) per group.
template <bool Q8> constexpr int q0_panel_vecs() { return Q8 ? 16 : 8; }

// Panel of rows r0..r0+nr-1, blocks b0..b0+nblk-1: vector g of block c has row j's bytes
// 4g..4g+3 in lane j (an 8 x 8 transpose of 32-bit groups); rows past nr are zero.
template <bool Q8> void q0_pack(const uint8_t *r0, size_t rb, int nr, int b0, int nblk, __m256i *panel) {
    constexpr int bs = q0_bs<Q8>();
    for (int c = 0; c < nblk; c++) {
        const size_t boff = static_cast<size_t>(b0 + c) * bs;
        for (int o = 0; o < 8 * bs; o += 64) prefetch_ahead(r0, kQ0AheadBytes + 8 * boff + o);
        __m256 r[8];
        for (int j = 0; j < 8; j++)
            r[j] = j < nr ? _mm256_castsi256_ps(q0_block_bytes<Q8>(r0 + j * rb + boff)) : _mm256_setzero_ps();
        VecAvx2::transpose(r);
        __m256i *p = panel + static_cast<size_t>(c) * q0_panel_vecs<Q8>();
        for (int g = 0; g < 8; g++) {
            const __m256i t = _mm256_castps_si256(r[g]);
            if constexpr (Q8) {
                p[2 * g] = _mm256_abs_epi8(t);
                p[2 * g + 1] = t;
            } else {
                p[g] = t;
            }
        }
    }
}

// Where q0_gemm_rows reads block c of a chunk (blocks b0..): vector g of the weights in
// panel order (Q8_0: |w| and w; Q4_0: the nibbles as unsigned bytes) and the 8 rows'
// scales. A packed panel (Q0Panel), or a Q8_0 Rows8 group read in place (Q0Group), which
// is in panel order already and needs only |w| per load: with few activation rows that
// is cheaper than packing, and the same bytes.
template <bool Q8> struct Q0Panel {
    const __m256i *panel;
    const float *ws;
    void q8(int c, int g, __m256i *aw, __m256i *sw) const {
        const __m256i *p = panel + static_cast<size_t>(c) * q0_panel_vecs<Q8>();
        *aw = p[2 * g], *sw = p[2 * g + 1];
    }
    __m256i q4(int c, int g) const { return panel[static_cast<size_t>(c) * q0_panel_vecs<Q8>() + g]; }
    __m256 scales(int c) const { return _mm256_load_ps(ws + 8 * c); }
};
struct Q0Group {
    const uint8_t *chunk; // block b0 of the group
    static constexpr size_t kBlock = 8 * q0_bs<true>();
    void q8(int c, int g, __m256i *aw, __m256i *sw) const {
        *sw = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(chunk + c * kBlock + 16) + g);
        *aw = _mm256_abs_epi8(*sw);
    }
    __m256 scales(int c) const { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(chunk + c * kBlock))); }
};

// R activation rows from m over one chunk of nblk blocks from b0; acc continues from y
// unless first.
template <bool Q8, int R, class Src> void q0_gemm_rows(const Src &src, int b0, int nblk, const uint8_t *act, size_t arb,
                                                       const quant::ActQ8Layout &l, int m, float *y, int64_t ldy, int n, int nr,
                                                       bool first) {
    const __m256i ones = _mm256_set1_epi16(1);
    const uint8_t *xr[R];
    __m256 acc[R];
    SM_UNROLL for (int i = 0; i < R; i++) {
        xr[i] = act + static_cast<size_t>(m + i) * arb;
        float *yr = y + (m + i) * ldy + n;
        acc[i] = first ? _mm256_setzero_ps() : nr == 8 ? _mm256_loadu_ps(yr) : VecAvx2::load_n(yr, nr);
    }
    for (int c = 0; c < nblk; c++) {
        const int b = b0 + c;
        __m256i s[R];
        if constexpr (Q8) {
            SM_UNROLL for (int i = 0; i < R; i++) s[i] = _mm256_setzero_si256();
            SM_UNROLL for (int g = 0; g < 8; g++) {
                __m256i aw, sw;
                src.q8(c, g, &aw, &sw);
                SM_UNROLL for (int i = 0; i < R; i++) {
                    const __m256i xb = _mm256_set1_epi32(quant::read_i32(xr[i] + 32 * b + 4 * g));
                    s[i] = _mm256_add_epi32(s[i], _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(xb, sw)), ones));
                    SM_KEEP_CHAIN(s[i]);
                }
            }
        } else {
            __m256i s16[R];
            SM_UNROLL for (int i = 0; i < R; i++) s16[i] = _mm256_setzero_si256();
            SM_UNROLL for (int g = 0; g < 8; g++) {
                const __m256i u = src.q4(c, g);
                SM_UNROLL for (int i = 0; i < R; i++) {
                    s16[i] = _mm256_add_epi16(
                        s16[i], _mm256_maddubs_epi16(u, _mm256_set1_epi32(quant::read_i32(xr[i] + 32 * b + 4 * g))));
                    SM_KEEP_CHAIN(s16[i]);
                }
            }
            SM_UNROLL for (int i = 0; i < R; i++) {
                const int32_t sx = reinterpret_cast<const int32_t *>(xr[i] + l.sum_off)[b];
                s[i] = _mm256_sub_epi32(_mm256_madd_epi16(s16[i], ones), _mm256_set1_epi32(8 * sx));
            }
        }
        const __m256 wsc = src.scales(c);
        SM_UNROLL for (int i = 0; i < R; i++) {
            const float xd = reinterpret_cast<const float *>(xr[i] + l.d_off)[b];
            acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[i]), _mm256_mul_ps(wsc, _mm256_set1_ps(xd)), acc[i]);
        }
    }
    SM_UNROLL for (int i = 0; i < R; i++) q0_store(y + (m + i) * ldy + n, acc[i], nr);
}

// The same panel and scales from a Rows8 group (kernels.h), which is in panel order
// already: Q8_0 adds |w|, Q4_0 splits the nibble bytes (vector h: low nibbles are panel
// vector h, elements 4h.., high nibbles vector h + 4, elements 16 + 4h..).
template <bool Q8> void q0_r8_pack(const uint8_t *grp, int b0, int nblk, __m256i *panel, float *ws) {
    constexpr int bb = 8 * q0_bs<Q8>();
    const __m256i low = _mm256_set1_epi8(15);
    for (int c = 0; c < nblk; c++) {
        const uint8_t *blk = grp + static_cast<size_t>(b0 + c) * bb;
        for (int o = 0; o < bb; o += 64) prefetch_ahead(blk, kQ0AheadBytes + o);
        _mm256_store_ps(ws + 8 * c, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(blk))));
        const __m256i *q = reinterpret_cast<const __m256i *>(blk + 16);
        __m256i *p = panel + static_cast<size_t>(c) * q0_panel_vecs<Q8>();
        if constexpr (Q8) {
            SM_UNROLL for (int g = 0; g < 8; g++) {
                const __m256i t = _mm256_loadu_si256(q + g);
                p[2 * g] = _mm256_abs_epi8(t);
                p[2 * g + 1] = t;
            }
        } else {
            SM_UNROLL for (int h = 0; h < 4; h++) {
                const __m256i t = _mm256_loadu_si256(q + h);
                p[h] = _mm256_and_si256(t, low);
                p[h + 4] = _mm256_and_si256(_mm256_srli_epi16(t, 4), low);
            }
        }
    }
}

template <bool Q8, bool R8>
void q0_gemm(const Matrix &w, const uint8_t *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    const quant::ActQ8Layout l = quant::act_q8_layout(w.cols);
    const size_t rb = w.row_bytes;
    alignas(32) __m256i panel[kQ0Chunk * q0_panel_vecs<Q8>()];
    alignas(32) float ws[kQ0Chunk * 8];
    for (int mc = 0; mc < M; mc += kQ0RowBlock) {
        const int me = M - mc < kQ0RowBlock ? M : mc + kQ0RowBlock;
        for (int n = n0; n < n1; n += 8) {
            const int nr = n1 - n < 8 ? n1 - n : 8;
            const uint8_t *r0 = w.row(n);
            for (int b0 = 0; b0 < l.nb; b0 += kQ0Chunk) {
                const int nblk = l.nb - b0 < kQ0Chunk ? l.nb - b0 : kQ0Chunk;
                auto rows = [&](const auto &src) {
                    int m = mc;
                    for (; m + 4 <= me; m += 4) q0_gemm_rows<Q8, 4>(src, b0, nblk, act, arb, l, m, y, ldy, n, nr, b0 == 0);
                    for (; m < me; m++) q0_gemm_rows<Q8, 1>(src, b0, nblk, act, arb, l, m, y, ldy, n, nr, b0 == 0);
                };
                if constexpr (R8 && Q8) {
                    if (me - mc <= kQ0InPlaceRows) {
                        const Q0Group src{r0 + static_cast<size_t>(b0) * Q0Group::kBlock};
                        for (size_t o = 0; o < nblk * Q0Group::kBlock; o += 64) prefetch_ahead(src.chunk, kQ0AheadBytes + o);
                        rows(src);
                        continue;
                    }
                }
                if constexpr (R8) {
                    q0_r8_pack<Q8>(r0, b0, nblk, panel, ws);
                } else {
                    q0_pack<Q8>(r0, rb, nr, b0, nblk, panel);
                    q0_scales<Q8>(r0, rb, nr, b0, nblk, ws);
                }
                rows(Q0Panel<Q8>{panel, ws});
            }
        }
    }
}

// ================================================================== Rows8 GEMV

// The GEMM's inner loop for one activation row, straight from a Rows8 group: the block
// sums form in the lanes (no reduction), the scales are one fp16 load, and the group is a
// single contiguous stream.
template <bool Q8>
void q0_r8_gemv(const Matrix &w, const uint8_t *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    const quant::ActQ8Layout l = quant::act_q8_layout(w.cols);
    constexpr int bb = 8 * q0_bs<Q8>();
    const __m256i ones = _mm256_set1_epi16(1), low = _mm256_set1_epi8(15);
    for (int n = n0; n < n1; n += 8) {
        const uint8_t *grp = w.row(n);
        for (int m = 0; m < M; m++) {
            const quant::ActQ8Row x_m = quant::act_q8_row(act, arb, m, l);
            __m256 acc = _mm256_setzero_ps();
            for (int b = 0; b < l.nb; b++) {
                const uint8_t *blk = grp + static_cast<size_t>(b) * bb;
                if (m == 0)
                    for (int o = 0; o < bb; o += 64) prefetch_ahead(blk, kQ0AheadBytes + o);
                const __m256i *q = reinterpret_cast<const __m256i *>(blk + 16);
                const uint8_t *xb = x_m.qs + 32 * b;
                __m256i s;
                if constexpr (Q8) {
                    s = _mm256_setzero_si256();
                    SM_UNROLL for (int g = 0; g < 8; g++) {
                        const __m256i t = _mm256_loadu_si256(q + g);
                        const __m256i x4 = _mm256_set1_epi32(quant::read_i32(xb + 4 * g));
                        s = _mm256_add_epi32(
                            s, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(t), _mm256_sign_epi8(x4, t)), ones));
                        SM_KEEP_CHAIN(s);
                    }
                } else {
                    __m256i s16 = _mm256_setzero_si256();
                    SM_UNROLL for (int h = 0; h < 4; h++) {
                        const __m256i t = _mm256_loadu_si256(q + h);
                        const __m256i lo = _mm256_and_si256(t, low), hi = _mm256_and_si256(_mm256_srli_epi16(t, 4), low);
                        s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(lo, _mm256_set1_epi32(quant::read_i32(xb + 4 * h))));
                        s16 = _mm256_add_epi16(s16,
                                               _mm256_maddubs_epi16(hi, _mm256_set1_epi32(quant::read_i32(xb + 16 + 4 * h))));
                        SM_KEEP_CHAIN(s16);
                    }
                    s = _mm256_sub_epi32(_mm256_madd_epi16(s16, ones), _mm256_set1_epi32(8 * x_m.sum[b]));
                }
                const __m256 wsc = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(blk)));
                acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(wsc, _mm256_set1_ps(x_m.d[b])), acc);
            }
            _mm256_storeu_ps(y + m * ldy + n, acc);
        }
    }
}

template <bool Q8> void q0_matmul(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    const uint8_t *a = static_cast<const uint8_t *>(act);
    if (w.layout == Layout::Rows8) {
        if (M < kPackedGemmMinRows) q0_r8_gemv<Q8>(w, a, arb, M, y, ldy, n0, n1);
        else q0_gemm<Q8, true>(w, a, arb, M, y, ldy, n0, n1);
    } else {
        if (M < kPackedGemmMinRows) q0_gemv<Q8>(w, a, arb, M, y, ldy, n0, n1);
        else q0_gemm<Q8, false>(w, a, arb, M, y, ldy, n0, n1);
    }
}

} // namespace
} // namespace sm::kern
