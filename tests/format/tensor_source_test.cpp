// tensor_to_f32: the one conversion of stored weights to floats, for llama2.c's int8
// groups (version-2 checkpoints) and GGUF's types, and the loader's use of it.
#include <catch2/catch.hpp>

#include "format/model_file.h"
#include "model/weights.h"
#include "quant/fp16.h"
#include "quant/quant.h"

#include <cstring>
#include <random>
#include <vector>

using namespace sm;

namespace {

// A version-2 llama2.c checkpoint: f32 norms, then each matrix as int8 values followed by
// one f32 scale per group. Returns the file; `expect` gets tok_embd's values as q * scale.
std::vector<uint8_t> llama2c_v2(int group, std::vector<float> &expect) {
    const int dim = 8, hid = 16, L = 1, H = 2, KV = 2, V = 6, seq = 4;
    std::vector<uint8_t> b(256, 0);
    const uint32_t magic = 0x616b3432;
    const int32_t version = 2, h[7] = {dim, hid, L, H, KV, V, seq};
    memcpy(b.data(), &magic, 4);
    memcpy(b.data() + 4, &version, 4);
    memcpy(b.data() + 8, h, 28);
    b[36] = 1; // shared classifier
    memcpy(b.data() + 37, &group, 4);
    auto put_f32 = [&](float x) {
        uint8_t w[4];
        memcpy(w, &x, 4);
        b.insert(b.end(), w, w + 4);
    };
    for (int i = 0; i < L * dim * 2 + dim; i++) put_f32(1.0f); // attn, ffn and final norms
    std::mt19937 rng(7);
    auto quantized = [&](int n, std::vector<float> *values) {
        std::vector<int8_t> q(static_cast<size_t>(n));
        for (auto &x : q) x = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
        std::vector<float> s(static_cast<size_t>(n / group));
        for (auto &x : s) x = static_cast<float>(rng() % 1000 + 1) / 4096.0f;
        b.insert(b.end(), reinterpret_cast<uint8_t *>(q.data()), reinterpret_cast<uint8_t *>(q.data()) + n);
        for (float x : s) put_f32(x);
        if (values)
            for (int i = 0; i < n; i++)
                values->push_back(static_cast<float>(q[static_cast<size_t>(i)]) * s[static_cast<size_t>(i / group)]);
    };
    quantized(V * dim, &expect); // token embedding
    for (int n : {dim * dim, dim * dim, dim * dim, dim * dim, dim * hid, hid * dim, dim * hid}) quantized(n, nullptr);
    return b;
}

} // namespace

TEST_CASE("tensor_to_f32: llama2.c int8 groups, and the weights the loader binds from them", "[format][quant]") {
    for (int group : {4, 8, 16}) {
        std::vector<float> expect;
        const std::vector<uint8_t> file = llama2c_v2(group, expect);
        ModelFile m;
        Error err;
        REQUIRE(model_from_llama2c(file.data(), file.size(), m, err) == SM_OK);
        REQUIRE(m.tok_embd.l2c_group == static_cast<uint32_t>(group));
        std::vector<float> got(expect.size(), -1.0f);
        REQUIRE(tensor_to_f32(m.tok_embd, got.data()));
        CHECK(got == expect);

        Bump measure = Bump::measuring();
        Weights w;
        REQUIRE(bind_weights(m, measure, w, err) == SM_OK);
        std::vector<uint8_t> mem(measure.used + 64);
        Bump real = Bump::over(mem.data() + (64 - reinterpret_cast<uintptr_t>(mem.data()) % 64) % 64, measure.used);
        REQUIRE(bind_weights(m, real, w, err) == SM_OK);
        REQUIRE(w.tok_embd.type == TensorType::F32);
        CHECK(memcmp(w.tok_embd.data, expect.data(), expect.size() * 4) == 0);
    }
}

TEST_CASE("tensor_to_f32: GGUF types convert row by row as dequantize_row does", "[format][quant]") {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-2.0f, 2.0f);
    const int64_t cols = 64, rows = 3;
    std::vector<float> x(static_cast<size_t>(cols * rows));
    for (auto &v : x) v = u(rng);
    for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_0}) {
        std::vector<uint8_t> stored(row_bytes(t, cols) * rows);
        REQUIRE(quant::quantize_rows(t, x.data(), stored.data(), rows, cols));
        TensorSource s;
        s.type = t;
        s.ne0 = cols;
        s.ne1 = rows;
        s.data = stored.data();
        s.bytes = stored.size();
        std::vector<float> got(x.size()), want(x.size());
        REQUIRE(tensor_to_f32(s, got.data()));
        for (int64_t r = 0; r < rows; r++)
            REQUIRE(quant::dequantize_row(t, stored.data() + r * row_bytes(t, cols), want.data() + r * cols, cols));
        INFO(type_name(static_cast<uint32_t>(t)));
        CHECK(got == want);
        if (t == TensorType::F16) CHECK(got[5] == fp16_to_f32(f32_to_fp16(x[5])));
    }
    TensorSource bad;
    bad.type = TensorType::Q5_0;
    bad.ne0 = 32;
    bad.ne1 = 1;
    std::vector<uint8_t> zeros(64);
    bad.data = zeros.data();
    float out[32];
    CHECK_FALSE(tensor_to_f32(bad, out));
}
