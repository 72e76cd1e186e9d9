// AVX-512 Q8_0 / Q4_0 weights times 8-bit activations: the decode GEMV (natural
// activation rows, quant/act_q8.h) and, with VNNI, the prefill GEMM (activations in groups
// of 16 rows, see below). Include only between isa_avx512_begin.h and isa_end.h, with
// SM_ISA_VNNI defined for the vpdpbusd variant.
//
// The arithmetic (the same in both AVX-512 tables, for every M and row range): per output
// y[m][n], over the 32-element blocks b in increasing order,
//   S_b = the exact integer dot product of block b (Q4_0: of q - 8)
//   acc = fma(float(S_b), d_w(b) * d_x(b), acc)          (acc starts at 0; y = acc)
// Exact block sums make every way of forming S_b equivalent, which is what lets the two
// shapes differ:
//   GEMV: 16 weight rows at a time; per step (two blocks) one int32 vector of byte-group
//     sums per row, reduced across lanes (unpacks and 128-bit shuffles) to one vector of
//     16 rows' block sums, so the float work is one fma per block for 16 rows. The rows'
//     fp16 scales are gathered one step ahead with scalar loads and 64-bit stores, and the
//     next tile is prefetched (16 interleaved row streams defeat the hardware prefetcher).
//   GEMM (VNNI): lanes are 16 activation rows; a weight row's bytes are broadcast four at
//     a time (vpbroadcastd from memory: a load, no shuffle), so a block costs 8 vpdpbusd
//     + 3 float instructions for 16 x 32 products per weight row.
// Signedness: vpdpbusd multiplies unsigned by signed bytes. GEMV Q8_0 uses w + 128 against
// x and subtracts 128 * sum_x (the block sums the activation rows store); the GEMM uses
// x + 128 against w and subtracts 128 * sum_w (formed per weight tile). Both are exact for
// every int8 weight, -128 included. Q4_0 nibbles are unsigned already (GEMV: subtract
// 8 * sum_x); the GEMM unpacks them to q - 8. Without VNNI (vpmaddubsw pairs would
// saturate on x + 128) the table runs the GEMV for every M.
#pragma once
#include "kernels/avx512/api.h"
#include "kernels/avx512/vec.h"
#include "kernels/common/unroll.h"
#include "kernels/kernels.h"
#include "quant/act_q8.h"
#include "quant/blocks.h"
#include "quant/fp16_table.h"

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace sm::kern {
namespace {

#if defined(SM_ISA_VNNI)
constexpr bool kQ0Vnni = true;
#else
constexpr bool kQ0Vnni = false;
#endif

template <bool Q8> constexpr int q0_block_bytes() { return Q8 ? 34 : 18; }

// ---- 16 x 16 transposes by lane-bit / register-bit swaps (vpermt2d), level `bit`:
// registers r and r ^ (1 << bit) exchange the lanes whose bit `bit` differs.
template <int bit, int N = 16> inline void q0_swap_level(__m512i *r) {
    constexpr int s = 1 << bit;
    alignas(64) int32_t lo[16], hi[16];
    for (int l = 0; l < 16; l++) {
        lo[l] = (l & s) ? 16 + l - s : l;
        hi[l] = (l & s) ? 16 + l : l + s;
    }
    const __m512i ilo = _mm512_load_si512(lo), ihi = _mm512_load_si512(hi);
    for (int a = 0; a < N; a++)
        if (!(a & s)) {
            const __m512i x = r[a], y = r[a + s];
            r[a] = _mm512_permutex2var_epi32(x, ilo, y);
            r[a + s] = _mm512_permutex2var_epi32(x, ihi, y);
        }
}
// r[i] lane j -> r[j] lane i, for 16 registers.
inline void q0_transpose16(__m512i *r) {
    q0_swap_level<0>(r);
    q0_swap_level<1>(r);
    q0_swap_level<2>(r);
    q0_swap_level<3>(r);
}

// ================================================================== GEMV (natural rows)

// The int32 vector of one row's step (blocks 2s, 2s+1; lane i = bytes 4i..4i+3), whose
// lane sums per block are S_b before the activation-side correction (see above).
template <bool Q8, int nblk> inline __m512i q0_step_dot(const uint8_t *row, int s, __m512i x) {
    constexpr int bs = q0_block_bytes<Q8>();
    const uint8_t *b0 = row + static_cast<size_t>(2 * s) * bs, *b1 = b0 + bs;
    if constexpr (Q8) {
        const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b0 + 2));
        const __m256i hi = nblk > 1 ? _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b1 + 2)) : _mm256_setzero_si256();
        const __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
        if constexpr (kQ0Vnni) {
            return _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_xor_si512(w, _mm512_set1_epi8(static_cast<char>(0x80))), x);
        } else { // |w| against x with w's sign: pairs fit int16 (2 * 128 * 127 < 2^15)
            const __m512i xs8 = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w), _mm512_setzero_si512(), x);
            return _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_abs_epi8(w), xs8), _mm512_set1_epi16(1));
        }
    } else {
        // [lo nibbles b0 | hi nibbles b0 | lo b1 | hi b1]: the blocks' element order.
        const __m128i t0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(b0 + 2));
        const __m128i t1 = nblk > 1 ? _mm_loadu_si128(reinterpret_cast<const __m128i *>(b1 + 2)) : _mm_setzero_si128();
        const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_broadcastsi128_si256(t0)),
                                             _mm256_broadcastsi128_si256(t1), 1);
        const __m512i u = _mm512_and_si512(_mm512_srlv_epi64(z, _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4)), _mm512_set1_epi8(15));
        if constexpr (kQ0Vnni) return _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, x);
        else return _mm512_madd_epi16(_mm512_maddubs_epi16(u, x), _mm512_set1_epi16(1));
    }
}

// Cross-lane reduction of 16 rows' step vectors to two vectors of block sums (lane j =
// row j) by three-operand unpacks and 128-bit shuffles (no register copies):
//   rows A, B -> per 128-bit lane [A0+A2, B0+B2, A1+A3, B1+B3]       (level 1)
//   two of those (A,B), (C,D) -> per 128-bit lane [A, B, C, D] sums   (level 2)
//   (A..D), (E..H) -> [A..D blk0, A..D blk1, E..H blk0, E..H blk1]   (level 3)
//   (A..H), (I..P) -> [A..P blk0], [A..P blk1]                        (level 4, no add)
inline __m512i q0_red1(__m512i a, __m512i b) {
    return _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
}
inline __m512i q0_red2(__m512i a, __m512i b) {
    return _mm512_add_epi32(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
}
inline __m512i q0_red3(__m512i a, __m512i b) {
    return _mm512_add_epi32(_mm512_shuffle_i32x4(a, b, 0x88), _mm512_shuffle_i32x4(a, b, 0xDD));
}

// Rows n .. n + 16 (rows past nr repeat row n and are not stored) of one activation row.
template <bool Q8> void q0_gemv16(const Matrix &w, int n, int nr, const uint8_t *act, const quant::ActQ8Layout &l, float *y) {
    constexpr int bs = q0_block_bytes<Q8>();
    const uint8_t *wr[16];
    for (int j = 0; j < 16; j++) wr[j] = w.row(n + (j < nr ? j : 0));
    // The rows' fp16 scales of a step, gathered one step ahead (so the 32 small stores
    // drain while the step computes, and are in L1 when fold() loads them as one vector).
    alignas(64) uint16_t sw[2][2][16];
    const int nb = l.nb;
    // Four words per 64-bit store (the store port, one per cycle, is the limit here).
    auto gather = [&](int st) {
        uint16_t(*d)[16] = sw[st & 1];
        const size_t o = static_cast<size_t>(2 * st) * bs;
        const bool two = 2 * st + 1 < nb;
        SM_UNROLL for (int j = 0; j < 16; j += 4) {
            uint64_t a = 0, b = 0;
            SM_UNROLL for (int i = 0; i < 4; i++) {
                a |= static_cast<uint64_t>(quant::read_u16(wr[j + i] + o)) << (16 * i);
                if (two) b |= static_cast<uint64_t>(quant::read_u16(wr[j + i] + o + bs)) << (16 * i);
            }
            memcpy(&d[0][j], &a, 8);
            memcpy(&d[1][j], &b, 8);
        }
    };
    const float *dx = reinterpret_cast<const float *>(act + l.d_off);
    const int32_t *sx = reinterpret_cast<const int32_t *>(act + l.sum_off);
    // Activation-side correction per block (see above): none for Q8_0 without VNNI.
    constexpr int kCorr = Q8 ? (kQ0Vnni ? -128 : 0) : -8;
    __m512 acc = _mm512_setzero_ps();
    auto fold = [&](int b, __m512i s16) {
        if constexpr (kCorr != 0) s16 = _mm512_add_epi32(s16, _mm512_set1_epi32(kCorr * sx[b]));
        const __m512 ws = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i *>(sw[(b / 2) & 1][b & 1])));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s16), _mm512_mul_ps(ws, _mm512_set1_ps(dx[b])), acc);
    };
    gather(0);
    // The next tile (rows n + 16 .. n + 32, contiguous) into L2, a slice per step: the
    // 16 interleaved row streams defeat the hardware prefetcher. (Prefetches never fault.)
    const uint8_t *next = w.row(n + 16);
    const int nsteps = (nb + 1) / 2;
    const size_t pf_chunk = (16 * w.row_bytes / static_cast<size_t>(nsteps) + 63) & ~static_cast<size_t>(63);
    auto step = [&](int s, auto nblk_c) {
        constexpr int nblk = decltype(nblk_c)::value;
        for (size_t o = pf_chunk * static_cast<size_t>(s); o < pf_chunk * static_cast<size_t>(s + 1); o += 64)
            __builtin_prefetch(next + o, 0, 2);
        if (2 * s + 2 < nb) gather(s + 1);
        const __m512i x = _mm512_loadu_si512(act + 64 * s);
        __m512i q[8];
        SM_UNROLL for (int p = 0; p < 8; p++)
            q[p] = q0_red1(q0_step_dot<Q8, nblk>(wr[2 * p], s, x), q0_step_dot<Q8, nblk>(wr[2 * p + 1], s, x));
        __m512i r[4];
        SM_UNROLL for (int p = 0; p < 4; p++) r[p] = q0_red2(q[2 * p], q[2 * p + 1]);
        const __m512i t0 = q0_red3(r[0], r[1]), t1 = q0_red3(r[2], r[3]);
        fold(2 * s, _mm512_shuffle_i32x4(t0, t1, 0x88));
        if constexpr (nblk > 1) fold(2 * s + 1, _mm512_shuffle_i32x4(t0, t1, 0xDD));
    };
    const int ns = nb / 2;
    for (int s = 0; s < ns; s++) step(s, std::integral_constant<int, 2>());
    if (nb & 1) step(ns, std::integral_constant<int, 1>());
    _mm512_mask_storeu_ps(y + n, static_cast<__mmask16>((1u << nr) - 1), acc);
}

template <bool Q8> void q0_gemv(const Matrix &w, const uint8_t *act, float *y, int n0, int n1) {
    const quant::ActQ8Layout l = quant::act_q8_layout(w.cols);
    for (int n = n0; n < n1; n += 16) q0_gemv16<Q8>(w, n, n1 - n < 16 ? n1 - n : 16, act, l, y);
}

// ================================================================== GEMM (grouped rows)
//
// ActFormat::Q8Grouped for M >= kGroupedActMinRows (VNNI table): groups of 16 rows, the
// last one of mg = M - 16 g rows, group g at act + 16 g * arb:
//   x:  chunk c = 8 b + k (block b, k < 8) at + 4 mg c: mg dwords, dword r = bytes
//       4k..4k+3 of row r's quantized block b, each byte + 128 (as unsigned)
//   dx: at + 32 nb mg: for block b, mg floats (the rows' d) at + 4 mg b
// The rows quantize exactly as quant::quantize_act_q8 (only the layout differs), and the
// group takes 36 nb mg bytes, within the mg rows' act_row_bytes.
constexpr int kQ0Group = kActGroupRows;

struct Q0Group {
    const uint8_t *x;
    const float *dx;
    int mg;
};
inline Q0Group q0_group(const uint8_t *act, size_t arb, int nb, int M, int g) {
    Q0Group r;
    r.mg = M - kQ0Group * g < kQ0Group ? M - kQ0Group * g : kQ0Group;
    r.x = act + static_cast<size_t>(kQ0Group) * g * arb;
    r.dx = reinterpret_cast<const float *>(r.x + static_cast<size_t>(32) * nb * r.mg);
    return r;
}

// quant::quantize_act_q8 of one 32-float block: the same max, division and
// round-half-even (vcvtps2dq under the default rounding mode), hence the same bytes.
inline void q0_quant_block(const float *x, int8_t *q, float *d_out, int32_t *sum_out) {
    const __m512 absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_and_ps(v0, absmask), _mm512_and_ps(v1, absmask)));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(id)));
    const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(id)));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(q), _mm512_cvtepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(q + 16), _mm512_cvtepi32_epi8(q1));
    *d_out = d;
    if (sum_out) *sum_out = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
}

// Rows [r0, r1) of the batch: each row's dwords go to their own lanes (masked stores),
// so a range may start and end inside a group and leaves the other rows' bytes alone.
inline void q0_prepare_grouped(const float *x, int64_t ldx, int M, int r0, int r1, int K, uint8_t *act, size_t arb) {
    const int nb = K / 32;
    for (int g = r0 / kQ0Group; g * kQ0Group < r1; g++) {
        const Q0Group gr = q0_group(act, arb, nb, M, g);
        uint8_t *gx = const_cast<uint8_t *>(gr.x);
        float *gd = const_cast<float *>(gr.dx);
        const int a = r0 > kQ0Group * g ? r0 - kQ0Group * g : 0;
        const int e = r1 - kQ0Group * g < gr.mg ? r1 - kQ0Group * g : gr.mg;
        const __mmask16 mask = static_cast<__mmask16>(((1u << e) - 1) & ~((1u << a) - 1));
        for (int b = 0; b < nb; b++) {
            alignas(64) int8_t t[kQ0Group][32];
            alignas(64) float d[kQ0Group];
            for (int r = 0; r < kQ0Group; r++) {
                if (r >= a && r < e) {
                    q0_quant_block(x + (static_cast<int64_t>(kQ0Group) * g + r) * ldx + 32 * b, t[r], &d[r], nullptr);
                } else {
                    memset(t[r], 0, 32);
                    d[r] = 0.0f;
                }
            }
            // r[m] = [row m (8 dwords) | row m + 8]; after the transpose r[k] lane i =
            // dword k of row i (register bits 0..2 swapped with lane bits 0..2).
            __m512i v[8];
            for (int m = 0; m < 8; m++)
                v[m] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_load_si256(reinterpret_cast<const __m256i *>(t[m]))),
                                          _mm256_load_si256(reinterpret_cast<const __m256i *>(t[m + 8])), 1);
            q0_swap_level<0, 8>(v);
            q0_swap_level<1, 8>(v);
            q0_swap_level<2, 8>(v);
            const __m512i off = _mm512_set1_epi8(static_cast<char>(0x80));
            for (int k = 0; k < 8; k++)
                _mm512_mask_storeu_epi32(gx + static_cast<size_t>(4) * gr.mg * (8 * b + k), mask, _mm512_xor_si512(v[k], off));
            _mm512_mask_storeu_ps(gd + static_cast<size_t>(gr.mg) * b, mask, _mm512_load_ps(d));
        }
    }
}

// One weight tile (16 rows, a chunk of up to kQ0Kc blocks) prepared for the GEMM:
// scales as floats, -128 * (sum of the block's signed weights), and for Q4_0 the
// weights unpacked to q - 8.
constexpr int kQ0Kc = 16;
template <bool Q8> struct Q0WTile {
    alignas(64) float ws[kQ0Kc][16];
    alignas(64) int32_t corr[kQ0Kc][16];
    alignas(64) int8_t wq[Q8 ? 1 : 16][Q8 ? 1 : kQ0Kc * 32];
    alignas(64) uint8_t zero[kQ0Kc * 34 + 64];
    const uint8_t *wp[16]; // block kc0 of row j: Q8_0 its bytes (stride 34), Q4_0 wq[j] (stride 32)
};

// Sum of the 32 signed bytes at p.
inline int32_t q0_sum32(const uint8_t *p) {
    const __m256i w = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)),
                                       _mm256_set1_epi8(static_cast<char>(0x80)));
    const __m256i s = _mm256_sad_epu8(w, _mm256_setzero_si256()); // sum of w + 128, four qwords
    const __m128i t = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    return static_cast<int32_t>(_mm_cvtsi128_si64(t) + _mm_extract_epi64(t, 1)) - 32 * 128;
}

template <bool Q8> void q0_wtile(Q0WTile<Q8> &t, const Matrix &w, int n, int nr, int kc0, int nbc) {
    constexpr int bs = q0_block_bytes<Q8>();
    for (int j = 0; j < 16; j++) {
        if (j >= nr) {
            for (int bb = 0; bb < kQ0Kc; bb++) t.ws[bb][j] = 0.0f, t.corr[bb][j] = 0;
            t.wp[j] = t.zero; // zero weights, scale 0
            continue;
        }
        const uint8_t *row = w.row(n + j) + static_cast<size_t>(kc0) * bs;
        for (int bb = 0; bb < nbc; bb++) {
            const uint8_t *blk = row + static_cast<size_t>(bb) * bs;
            t.ws[bb][j] = quant::kF16[quant::read_u16(blk)];
            if constexpr (Q8) {
                t.corr[bb][j] = -128 * q0_sum32(blk + 2);
            } else {
                const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i *>(blk + 2));
                const __m128i m = _mm_set1_epi8(15), eight = _mm_set1_epi8(8);
                const __m128i lo = _mm_sub_epi8(_mm_and_si128(q, m), eight),
                              hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m), eight);
                _mm_store_si128(reinterpret_cast<__m128i *>(t.wq[j] + 32 * bb), lo);
                _mm_store_si128(reinterpret_cast<__m128i *>(t.wq[j] + 32 * bb + 16), hi);
                t.corr[bb][j] = -128 * q0_sum32(reinterpret_cast<const uint8_t *>(t.wq[j] + 32 * bb));
            }
        }
        t.wp[j] = Q8 ? row + 2 : reinterpret_cast<const uint8_t *>(t.wq[j]);
    }
}

// Blocks [kc0, kc0 + nbc) of group gr against the 16 rows of tile t: acc[j] lane i is
// y[16 g + i][n + j] so far.
template <bool Q8> void q0_gemm_group(const Q0WTile<Q8> &t, const Q0Group &gr, int kc0, int nbc, __m512 *acc) {
    constexpr int stride = Q8 ? 34 : 32;
    const __mmask16 mask = static_cast<__mmask16>((1u << gr.mg) - 1);
    for (int bb = 0; bb < nbc; bb++) {
        const int b = kc0 + bb;
        __m512i xk[8];
        SM_UNROLL for (int k = 0; k < 8; k++)
            xk[k] = _mm512_maskz_loadu_epi32(mask, gr.x + static_cast<size_t>(4) * gr.mg * (8 * b + k));
        const __m512 dx = _mm512_maskz_loadu_ps(mask, gr.dx + static_cast<size_t>(gr.mg) * b);
        SM_UNROLL for (int j = 0; j < 16; j++) {
            const uint8_t *p = t.wp[j] + stride * bb;
            // Four chains of two (integer sums: exact in any order) cut the latency.
            __m512i c[4] = {_mm512_set1_epi32(t.corr[bb][j]), _mm512_setzero_si512(), _mm512_setzero_si512(),
                            _mm512_setzero_si512()};
            SM_UNROLL for (int k = 0; k < 8; k++)
                c[k & 3] = _mm512_dpbusd_epi32(c[k & 3], xk[k], _mm512_set1_epi32(quant::read_i32(p + 4 * k)));
            const __m512i a = _mm512_add_epi32(_mm512_add_epi32(c[0], c[1]), _mm512_add_epi32(c[2], c[3]));
            acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a), _mm512_mul_ps(dx, _mm512_set1_ps(t.ws[bb][j])), acc[j]);
        }
    }
}

template <bool Q8> void q0_gemm(const Matrix &w, const uint8_t *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    constexpr int kGc = 8; // groups per M-chunk (their partial sums wait on the stack between K-chunks)
    const int nb = w.cols / 32, ng = (M + kQ0Group - 1) / kQ0Group;
    Q0WTile<Q8> t;
    memset(t.zero, 0, sizeof t.zero);
    alignas(64) __m512 part[kGc][16];
    for (int g0 = 0; g0 < ng; g0 += kGc) {
        const int g1 = ng - g0 < kGc ? ng : g0 + kGc;
        for (int n = n0; n < n1; n += 16) {
            const int nr = n1 - n < 16 ? n1 - n : 16;
            for (int kc0 = 0; kc0 < nb; kc0 += kQ0Kc) {
                const int nbc = nb - kc0 < kQ0Kc ? nb - kc0 : kQ0Kc;
                q0_wtile<Q8>(t, w, n, nr, kc0, nbc);
                for (int g = g0; g < g1; g++) {
                    const Q0Group gr = q0_group(act, arb, nb, M, g);
                    __m512 acc[16];
                    SM_UNROLL for (int j = 0; j < 16; j++) acc[j] = kc0 == 0 ? _mm512_setzero_ps() : part[g - g0][j];
                    q0_gemm_group<Q8>(t, gr, kc0, nbc, acc);
                    if (kc0 + nbc < nb) {
                        SM_UNROLL for (int j = 0; j < 16; j++) part[g - g0][j] = acc[j];
                        continue;
                    }
                    __m512i r[16];
                    SM_UNROLL for (int j = 0; j < 16; j++) r[j] = _mm512_castps_si512(acc[j]);
                    q0_transpose16(r);
                    const __mmask16 cm = static_cast<__mmask16>((1u << nr) - 1);
                    for (int i = 0; i < gr.mg; i++)
                        _mm512_mask_storeu_ps(y + (static_cast<int64_t>(kQ0Group) * g + i) * ldy + n, cm,
                                              _mm512_castsi512_ps(r[i]));
                }
            }
        }
    }
}

// The table entry for Q8_0 / Q4_0: the grouped GEMM when the activations are grouped
// (VNNI, M >= kGroupedActMinRows), else the GEMV for each row, over 64 weight rows at a time
// so that a few rows (batched sessions) read the weights from memory once.
template <bool Q8> void matmul_q0(const Matrix &w, const void *act, size_t arb, int M, float *y, int64_t ldy, int n0, int n1) {
    const uint8_t *a = static_cast<const uint8_t *>(act);
    if (kQ0Vnni && M >= kGroupedActMinRows) return q0_gemm<Q8>(w, a, arb, M, y, ldy, n0, n1);
    if (M == 1) return q0_gemv<Q8>(w, a, y, n0, n1);
    for (int n = n0; n < n1; n += 64) {
        const int e = n1 - n < 64 ? n1 : n + 64;
        for (int m = 0; m < M; m++) q0_gemv<Q8>(w, a + static_cast<size_t>(m) * arb, y + m * ldy, n, e);
    }
}

} // namespace
} // namespace sm::kern
