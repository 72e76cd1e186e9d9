// Helpers shared by the kernel tests: the tables this CPU can run, random data, weight
// matrices of every type, and the error bounds the comparisons use.
#pragma once
#include <catch2/catch.hpp>

#include "core/cpu.h"
#include "kernels/kernels.h"
#include "kernels/tables.h"
#include "quant/quant.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace kt {

using sm::TensorType;
using sm::kern::Kernels;

// The SIMD tables compiled in; those this CPU cannot run are skipped with a WARN (so a
// run on a smaller CPU says what it did not cover).
inline std::vector<const Kernels *> simd_tables() {
    const Kernels *all[16];
    const int n = sm::kern::all_tables(all, 16);
    const sm::CpuFeatures f = sm::detect_cpu();
    std::vector<const Kernels *> out;
    for (int i = 0; i < n; i++) {
        if (all[i]->isa == SM_ISA_SCALAR) continue;
        if (sm::kern::can_run(*all[i], f)) out.push_back(all[i]);
        else WARN("skipping kernel table " << all[i]->name << ": this CPU cannot run it");
    }
    return out;
}

inline std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 g(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto &x : v) x = d(g);
    return v;
}

// A weight matrix in GGUF layout, placed off SIMD alignment.
struct Weights {
    TensorType type;
    int rows, cols;
    size_t rb;
    std::vector<uint8_t> buf;
    size_t off = 0;
    std::vector<float> deq; // exactly the values the kernels multiply (ggml dequantization)

    Weights(TensorType t, int n, int k, uint32_t seed) : type(t), rows(n), cols(k) {
        rb = sm::row_bytes(t, k);
        std::vector<float> f = randn(static_cast<size_t>(n) * k, seed);
        // Misaligned for SIMD, but keeping the element (or block: ggml's blocks hold
        // uint16 scales) alignment that GGUF's 32-byte aligned tensor data guarantees.
        off = t == TensorType::F32 ? 4 : 2;
        buf.assign(off + rb * n + 64, 0xEE);
        REQUIRE(sm::quant::quantize_rows(t, f.data(), buf.data() + off, n, k));
        deq.resize(static_cast<size_t>(n) * k);
        for (int r = 0; r < n; r++)
            REQUIRE(sm::quant::dequantize_row(t, buf.data() + off + rb * r, deq.data() + static_cast<size_t>(r) * k, k));
    }
    sm::kern::Matrix matrix() const {
        sm::kern::Matrix m;
        m.type = type;
        m.rows = rows;
        m.cols = cols;
        m.row_bytes = rb;
        m.data = buf.data() + off;
        return m;
    }
};

// Activations prepared by a table, in a buffer at an odd address for float formats.
struct Acts {
    size_t rb;
    std::vector<uint8_t> buf;
    size_t off;
    void *p() { return buf.data() + off; }
    Acts(const Kernels &k, TensorType w, const float *x, int64_t ldx, int M, int K) {
        rb = k.act_row_bytes(w, K);
        off = 4;
        buf.assign(off + rb * static_cast<size_t>(M) + 64, 0xCD);
        k.prepare_act(w, x, ldx, M, 0, M, K, p());
    }
};

constexpr double kU = 1.0 / (1 << 24); // unit roundoff of float

// A first-order bound on |a - b| for two float evaluations of sum_k t_k that each round
// at most n times along any path (gamma_n = n u per evaluation): 2 n u sum |t_k|, plus
// a few float minima for products that underflow.
inline double sum_bound(int n, double abs_sum) { return 2.0 * n * kU * abs_sum + 1e-30; }

inline bool bits_equal(const float *a, const float *b, size_t n) { return memcmp(a, b, n * sizeof(float)) == 0; }

} // namespace kt
