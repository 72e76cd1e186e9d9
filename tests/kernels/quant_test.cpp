// GGUF block formats: dequantization of hand-made blocks with known values (bit-exact),
// ggml's reference rounding in the Q8_0 / Q4_0 quantizers, round-trip error bounds, and
// the 8-bit activation format every table shares.
#include "kernel_test_util.h"

#include "quant/act_q8.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

using namespace kt;
using namespace sm::quant;

TEST_CASE("quant: block sizes are ggml's", "[kernels]") {
    CHECK(sm::row_bytes(TensorType::Q8_0, 64) == 2 * sizeof(BlockQ8_0));
    CHECK(sm::row_bytes(TensorType::Q4_0, 64) == 2 * sizeof(BlockQ4_0));
    CHECK(sm::row_bytes(TensorType::Q4_K, 512) == 2 * sizeof(BlockQ4K));
    CHECK(sm::row_bytes(TensorType::Q6_K, 512) == 2 * sizeof(BlockQ6K));
}

TEST_CASE("quant: q8_0 dequantizes hand-made blocks exactly", "[kernels]") {
    BlockQ8_0 b[2];
    b[0].d = 0x3800; // 0.5
    b[1].d = 0xC400; // -4.0
    for (int j = 0; j < 32; j++) {
        b[0].qs[j] = static_cast<int8_t>(j == 0 ? -128 : j == 1 ? 127 : j - 16);
        b[1].qs[j] = static_cast<int8_t>(3 * j - 50);
    }
    float y[64];
    dequantize_row_q8_0(b, y, 64);
    CHECK(y[0] == -64.0f);
    CHECK(y[1] == 63.5f);
    for (int j = 2; j < 32; j++) CHECK(y[j] == 0.5f * (j - 16));
    for (int j = 0; j < 32; j++) CHECK(y[32 + j] == -4.0f * (3 * j - 50));
}

TEST_CASE("quant: q4_0 dequantizes hand-made blocks exactly", "[kernels]") {
    BlockQ4_0 b;
    b.d = 0x4000; // 2.0
    for (int j = 0; j < 16; j++) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    float y[32];
    dequantize_row_q4_0(&b, y, 32);
    for (int j = 0; j < 16; j++) {
        CHECK(y[j] == 2.0f * (j - 8));      // low nibbles: the first 16 elements
        CHECK(y[j + 16] == 2.0f * (7 - j)); // high nibbles: the next 16
    }
}

TEST_CASE("quant: q4_K dequantizes a hand-made block exactly", "[kernels]") {
    BlockQ4K b;
    b.d = 0x3C00;    // 1.0
    b.dmin = 0x3800; // 0.5
    // Sub-block s: scale 40 + s, min 2 s + 1 (both above 15 for s >= 4: uses the top bits).
    int sc[8], mn[8];
    for (int s = 0; s < 8; s++) {
        sc[s] = s < 4 ? s + 1 : 40 + s;
        mn[s] = s < 4 ? 2 * s + 1 : 50 + s;
    }
    // ggml's 12-byte packing, written out bit by bit.
    for (int j = 0; j < 4; j++) {
        b.scales[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
        b.scales[j + 4] = static_cast<uint8_t>(mn[j] | ((mn[j + 4] >> 4) << 6));
        b.scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
    }
    // Element e: group e / 64, the low nibble for the first 32 of the group, high for the rest.
    auto q_of = [](int e) { return (e * 7 + 3) % 16; };
    for (int e = 0; e < 256; e++) {
        uint8_t &byte = b.qs[32 * (e / 64) + e % 32];
        if ((e % 64) < 32) byte = static_cast<uint8_t>((byte & 0xF0) | q_of(e));
        else byte = static_cast<uint8_t>((byte & 0x0F) | (q_of(e) << 4));
    }
    float y[256];
    dequantize_row_q4_K(&b, y, 256);
    for (int e = 0; e < 256; e++) {
        const int s = e / 32;
        const float expect = (1.0f * static_cast<float>(sc[s])) * static_cast<float>(q_of(e)) - 0.5f * static_cast<float>(mn[s]);
        CHECK(y[e] == expect);
    }
}

TEST_CASE("quant: q6_K dequantizes a hand-made block exactly", "[kernels]") {
    BlockQ6K b;
    memset(&b, 0, sizeof b);
    b.d = 0x3400; // 0.25
    for (int s = 0; s < 16; s++) b.scales[s] = static_cast<int8_t>(s * 9 - 70);
    // Element e in half h: 6-bit L = e % 64; low 4 bits in ql[64 h + jj % 64] (low nibble
    // for jj < 64, high above), high 2 bits in qh[32 h + jj % 32] at bit 2 * (jj / 32).
    auto L_of = [](int e) { return (e * 5 + 11) % 64; };
    for (int e = 0; e < 256; e++) {
        const int h = e / 128, jj = e % 128, L = L_of(e);
        uint8_t &lo = b.ql[64 * h + jj % 64];
        lo = static_cast<uint8_t>(jj < 64 ? (lo & 0xF0) | (L & 15) : (lo & 0x0F) | ((L & 15) << 4));
        b.qh[32 * h + jj % 32] |= static_cast<uint8_t>((L >> 4) << (2 * (jj / 32)));
    }
    float y[256];
    dequantize_row_q6_K(&b, y, 256);
    for (int e = 0; e < 256; e++) {
        const float expect = (0.25f * static_cast<float>(b.scales[e / 16])) * static_cast<float>(L_of(e) - 32);
        CHECK(y[e] == expect);
    }
}

TEST_CASE("quant: q8_0 and q4_0 quantize with ggml's reference rounding", "[kernels]") {
    float x[32] = {0};
    x[0] = 127.0f; // amax 127: d = 1, id = 1
    x[1] = 2.5f;   // roundf: away from zero -> 3 (nearbyint would give 2)
    x[2] = -2.5f;
    x[3] = 0.49f;
    BlockQ8_0 q8;
    quantize_row_q8_0(x, &q8, 32);
    CHECK(q8.d == 0x3C00);
    CHECK(q8.qs[0] == 127);
    CHECK(q8.qs[1] == 3);
    CHECK(q8.qs[2] == -3);
    CHECK(q8.qs[3] == 0);

    float z[32] = {0};
    z[0] = -8.0f;  // the largest magnitude, negative: d = -8 / -8 = 1
    z[1] = 3.0f;   // 3 + 8.5 = 11.5 -> truncated to 11
    z[2] = 7.9f;   // 16.4 -> 16 -> capped at 15
    z[3] = 0.49f;  // 8.99 -> 8
    z[16] = -7.6f; // 0.9 -> 0
    BlockQ4_0 q4;
    quantize_row_q4_0(z, &q4, 32);
    CHECK(q4.d == 0x3C00);
    CHECK((q4.qs[0] & 15) == 0);
    CHECK((q4.qs[0] >> 4) == 0);
    CHECK((q4.qs[1] & 15) == 11);
    CHECK((q4.qs[2] & 15) == 15);
    CHECK((q4.qs[3] & 15) == 8);
    CHECK((q4.qs[4] & 15) == 8); // zero -> 8.5 -> 8
}

TEST_CASE("quant: quantize -> dequantize round trips stay within their error bounds", "[kernels]") {
    const int n = 4096;
    std::vector<float> x = randn(n, 42);
    for (TensorType t :
         {TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_K, TensorType::Q6_K}) {
        INFO(sm::type_name(static_cast<uint32_t>(t)));
        std::vector<uint8_t> q(sm::row_bytes(t, n));
        std::vector<float> y(n);
        REQUIRE(quantize_rows(t, x.data(), q.data(), 1, n));
        REQUIRE(dequantize_row(t, q.data(), y.data(), n));
        double err2 = 0, x2 = 0;
        int over = 0;
        for (int i = 0; i < n; i++) {
            const double e = std::fabs(static_cast<double>(y[i]) - x[i]);
            err2 += e * e;
            x2 += static_cast<double>(x[i]) * x[i];
            // Per element bounds, per block of 32 with amax a:
            //  f16: half an ulp (2^-11 relative); bf16: 2^-8 relative;
            //  q8_0: d/2 with d = a/127, plus 127 * (d's fp16 rounding, 2^-11 d);
            //  q4_0: one step |d| = a/8 at the clipped end, plus 8 * 2^-11 |d|.
            double amax = 0;
            for (int j = i / 32 * 32; j < i / 32 * 32 + 32; j++) amax = std::max(amax, std::fabs(static_cast<double>(x[j])));
            double bound = 1e30;
            if (t == TensorType::F16) bound = std::fabs(x[i]) * std::ldexp(1.0, -11) + 6e-8;
            if (t == TensorType::BF16) bound = std::fabs(x[i]) * std::ldexp(1.0, -8);
            if (t == TensorType::Q8_0) bound = amax / 127 * (0.5 + 127 * std::ldexp(1.0, -11)) * 1.0001;
            if (t == TensorType::Q4_0) bound = amax / 8 * (1 + 8 * std::ldexp(1.0, -11)) * 1.0001;
            if (e > bound) over++;
        }
        CHECK(over == 0);
        // K-quants: relative RMS error of a 4-bit (1/15 step of the sub-block range,
        // about 1/(15 sqrt 12) of it in RMS) and a 6-bit quantizer on Gaussian data.
        const double rel = std::sqrt(err2 / x2);
        if (t == TensorType::Q4_K) CHECK(rel < 0.12);
        if (t == TensorType::Q6_K) CHECK(rel < 0.03);
        if (t == TensorType::Q8_0) CHECK(rel < 0.01);
        if (t == TensorType::Q4_0) CHECK(rel < 0.12);
    }
}

TEST_CASE("quant: the 8-bit activation format rounds half to even, in every table", "[kernels]") {
    const int K = 96; // three blocks: a padding block follows
    std::vector<float> x = randn(K, 3);
    x[0] = 127.0f; // block 0: d = 1, so x is q
    x[1] = 2.5f;
    x[2] = -3.5f;
    x[3] = 0.5f;
    const ActQ8Layout l = act_q8_layout(K);
    REQUIRE(l.nbp == 4);
    std::vector<uint8_t> ref(l.bytes);
    quantize_act_q8(x.data(), K, ref.data());
    const int8_t *q = reinterpret_cast<const int8_t *>(ref.data());
    CHECK(q[0] == 127);
    CHECK(q[1] == 2);
    CHECK(q[2] == -4);
    CHECK(q[3] == 0);
    int32_t sum0 = 0, stored;
    for (int j = 0; j < 32; j++) sum0 += q[j];
    memcpy(&stored, ref.data() + l.sum_off, 4);
    CHECK(stored == sum0);
    for (size_t i = 96; i < 128; i++) CHECK(ref[i] == 0); // the padding block
    std::vector<const Kernels *> tabs = simd_tables();
    tabs.push_back(&sm::kern::kRefKernels);
    for (const Kernels *k : tabs) {
        INFO(k->name);
        REQUIRE(k->act_row_bytes(TensorType::Q8_0, K) == l.bytes);
        std::vector<uint8_t> got(l.bytes, 0xAB);
        k->prepare_act(TensorType::Q4_0, x.data(), K, 1, 0, 1, K, got.data());
        CHECK(memcmp(got.data(), ref.data(), l.bytes) == 0);
    }
}
