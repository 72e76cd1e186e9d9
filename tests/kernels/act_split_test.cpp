// The activation conversion contract (kernels.h, prepare_act): converting the rows of an
// M-row batch in any partition of ranges, in any order, gives the bytes of one call over
// [0, M), and a product over them the scalar oracle's values. Threads, frame slices and
// batched sessions all split rows at arbitrary points, so every table must hold it; the
// grouped layout's portable definition runs it on machines without AVX-512 VNNI.
#include "grouped_act_reference.h"
#include "kernel_test_util.h"

#include <algorithm>

using namespace kt;

namespace {

std::vector<const Kernels *> tables_with_reference() {
    std::vector<const Kernels *> tabs = simd_tables();
    tabs.push_back(&sm::kern::kRefKernels);
    tabs.push_back(&grouped_reference_table());
    return tabs;
}

int k_for(TensorType t) { return t == TensorType::F32 ? 37 : t == TensorType::Q8_0 ? 32 : 96; }

struct Batch {
    const Kernels &k;
    TensorType t;
    int M, K;
    int64_t ldx;
    std::vector<float> x;
    size_t rb;
    Batch(const Kernels &k_, TensorType t_, int M_, uint32_t seed) : k(k_), t(t_), M(M_), K(k_for(t_)), ldx(K + 5) {
        x = randn(static_cast<size_t>(M) * ldx, seed);
        rb = k.act_row_bytes(t, K);
    }
    // The buffer after converting the ranges [cut[i], cut[i + 1]) in the given order.
    std::vector<uint8_t> convert(const std::vector<int> &cut, const std::vector<int> &order) const {
        std::vector<uint8_t> buf(rb * M + 64, 0xCD);
        for (int i : order) k.prepare_act(t, x.data(), ldx, M, cut[i], cut[i + 1], K, buf.data());
        return buf;
    }
    std::vector<uint8_t> whole() const { return convert({0, M}, {0}); }
};

std::vector<int> in_order(int parts) {
    std::vector<int> o(parts);
    for (int i = 0; i < parts; i++) o[i] = i;
    return o;
}

} // namespace

TEST_CASE("prepare_act: any split of the rows gives the bytes of the whole batch", "[kernels][act]") {
    std::mt19937 g(17);
    std::vector<int> Ms;
    for (int M = 1; M <= 80; M++) Ms.push_back(M);
    Ms.push_back(256);
    for (const Kernels *k : tables_with_reference())
        for (TensorType t : {TensorType::F32, TensorType::Q8_0, TensorType::Q4_0})
            for (int M : Ms) {
                INFO(k->name << " " << sm::type_name(static_cast<uint32_t>(t)) << " M=" << M);
                const Batch b(*k, t, M, 1000 + M);
                const std::vector<uint8_t> whole = b.whole();
                int bad = 0;
                // Two parts, cut at every row, converted in both orders.
                for (int s = 1; s < M; s++) {
                    if (b.convert({0, s, M}, {0, 1}) != whole) bad++;
                    if ((s % 7 == 0 || M < 20) && b.convert({0, s, M}, {1, 0}) != whole) bad++;
                }
                // Three to five parts at random rows, in a random order.
                for (int trial = 0; trial < 12 && M >= 3; trial++) {
                    const int parts = 3 + static_cast<int>(g() % 3);
                    std::vector<int> cut = {0, M};
                    while (static_cast<int>(cut.size()) < parts + 1 && static_cast<int>(cut.size()) < M + 1) {
                        const int c = 1 + static_cast<int>(g() % static_cast<uint32_t>(M - 1));
                        if (std::find(cut.begin(), cut.end(), c) == cut.end()) cut.push_back(c);
                    }
                    std::sort(cut.begin(), cut.end());
                    std::vector<int> order = in_order(static_cast<int>(cut.size()) - 1);
                    std::shuffle(order.begin(), order.end(), g);
                    if (b.convert(cut, order) != whole) bad++;
                }
                CHECK(bad == 0);
            }
}

TEST_CASE("prepare_act: the grouped layout is the portable definition's, on every table that uses it", "[kernels][act]") {
    int checked = 0;
    for (const Kernels *k : simd_tables())
        for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
            if (k->act_format(t) != sm::kern::ActFormat::Q8Grouped) continue;
            for (int M : {12, 13, 16, 17, 31, 32, 33, 80, 256}) {
                INFO(k->name << " " << sm::type_name(static_cast<uint32_t>(t)) << " M=" << M);
                const Batch b(*k, t, M, 77 + M), r(grouped_reference_table(), t, M, 77 + M);
                CHECK(b.whole() == r.whole());
                checked++;
            }
        }
    if (checked == 0) WARN("no table on this CPU uses the grouped layout: only its portable definition was tested");
}

TEST_CASE("prepare_act: a product over split conversions gives the scalar oracle's values", "[kernels][act]") {
    std::mt19937 g(5);
    for (const Kernels *k : tables_with_reference())
        for (TensorType t : {TensorType::F32, TensorType::Q8_0, TensorType::Q4_0})
            for (int M : {1, 2, 5, 11, 12, 15, 16, 17, 40, 79, 256}) {
                INFO(k->name << " " << sm::type_name(static_cast<uint32_t>(t)) << " M=" << M);
                const Batch b(*k, t, M, 300 + M);
                const int N = 19;
                Weights w(t, N, b.K, 400 + M);
                std::vector<int> cut = {0, M};
                if (M > 2) cut = {0, 1 + static_cast<int>(g() % static_cast<uint32_t>(M - 2)), M};
                if (M > 4) cut.insert(cut.begin() + 1, 1);
                std::sort(cut.begin(), cut.end());
                cut.erase(std::unique(cut.begin(), cut.end()), cut.end());
                std::vector<int> order = in_order(static_cast<int>(cut.size()) - 1);
                std::reverse(order.begin(), order.end());
                std::vector<uint8_t> split = b.convert(cut, order), whole = b.whole();
                std::vector<float> ys(static_cast<size_t>(M) * N), yw(ys.size()), yr(ys.size());
                k->matmul(w.matrix(), split.data(), b.rb, M, ys.data(), N, 0, N);
                k->matmul(w.matrix(), whole.data(), b.rb, M, yw.data(), N, 0, N);
                CHECK(bits_equal(ys.data(), yw.data(), ys.size()));
                // The oracle row by row, on its own conversion of the same floats.
                const Kernels &ref = sm::kern::kRefKernels;
                const size_t rrb = ref.act_row_bytes(t, b.K);
                std::vector<uint8_t> ra(rrb * M);
                ref.prepare_act(t, b.x.data(), b.ldx, M, 0, M, b.K, ra.data());
                ref.matmul(w.matrix(), ra.data(), rrb, M, yr.data(), N, 0, N);
                const bool exact_table = k->isa == SM_ISA_SCALAR; // the oracle, or its grouped twin
                double worst = 0, scale = 0;
                for (size_t i = 0; i < ys.size(); i++) {
                    worst = std::max(worst, std::fabs(static_cast<double>(ys[i]) - yr[i]));
                    scale = std::max(scale, std::fabs(static_cast<double>(yr[i])));
                }
                if (exact_table) CHECK(bits_equal(ys.data(), yr.data(), ys.size()));
                else CHECK(worst <= 1e-5 * (scale + 1.0)); // the SIMD tables' own rounding (matmul_test bounds it exactly)
            }
}
