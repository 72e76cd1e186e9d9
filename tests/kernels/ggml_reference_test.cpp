// Bit-exactness against llama.cpp itself: when the reference libggml-base.so is present
// (shared/reference/llama.cpp, or $SM_SHARED_DIR/reference/llama.cpp), our quantizers
// must write the same bytes as quantize_row_q8_0_ref / quantize_row_q4_0_ref and our
// dequantization must give the same bits as dequantize_row_* on random blocks (random
// fp16 scales included: subnormals, infinities). Prints "skipped: ..." otherwise.
#include "kernel_test_util.h"

#if defined(__x86_64__) && !defined(SM_KERNEL_TESTS_ONLY)
#include "test_support.h"

#include <dlfcn.h>
#include <string>

using namespace kt;

namespace {

std::string ggml_base_path() { return smtest::reference_path("llama.cpp/libggml-base.so"); }

} // namespace

TEST_CASE("quant: bit-exact with llama.cpp's own libggml-base", "[kernels]") {
    const std::string path = ggml_base_path();
    void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        smtest::skipped("reference ggml not loadable (" + path + ")");
        return;
    }
    // ggml converts fp16 through a table that ggml_init fills.
    struct InitParams {
        size_t mem_size;
        void *mem_buffer;
        bool no_alloc;
    };
    using Init = void *(*)(InitParams);
    using Free = void (*)(void *);
    using Deq = void (*)(const void *, float *, int64_t);
    using Quant = void (*)(const float *, void *, int64_t);
    auto init = reinterpret_cast<Init>(dlsym(h, "ggml_init"));
    auto fini = reinterpret_cast<Free>(dlsym(h, "ggml_free"));
    REQUIRE(init);
    void *ctx = init(InitParams{1 << 16, nullptr, true});
    std::mt19937 g(11);
    struct {
        const char *fn;
        TensorType t;
    } deqs[] = {{"dequantize_row_q8_0", TensorType::Q8_0},
                {"dequantize_row_q4_0", TensorType::Q4_0},
                {"dequantize_row_q4_K", TensorType::Q4_K},
                {"dequantize_row_q6_K", TensorType::Q6_K}};
    for (auto &d : deqs) {
        INFO(d.fn);
        auto fn = reinterpret_cast<Deq>(dlsym(h, d.fn));
        REQUIRE(fn);
        const int n = 2048;
        std::vector<uint8_t> blk(sm::row_bytes(d.t, n));
        std::vector<float> a(n), b(n);
        int bad = 0;
        for (int rep = 0; rep < 20; rep++) {
            for (auto &x : blk) x = static_cast<uint8_t>(g());
            fn(blk.data(), a.data(), n);
            REQUIRE(sm::quant::dequantize_row(d.t, blk.data(), b.data(), n));
            for (int k = 0; k < n; k++)
                if (memcmp(&a[k], &b[k], 4) != 0 && !(std::isnan(a[k]) && std::isnan(b[k]))) bad++;
        }
        CHECK(bad == 0);
    }
    struct {
        const char *fn;
        TensorType t;
    } qs[] = {{"quantize_row_q8_0_ref", TensorType::Q8_0}, {"quantize_row_q4_0_ref", TensorType::Q4_0}};
    for (auto &q : qs) {
        INFO(q.fn);
        auto fn = reinterpret_cast<Quant>(dlsym(h, q.fn));
        REQUIRE(fn);
        const int n = 2048;
        std::vector<uint8_t> a(sm::row_bytes(q.t, n)), b(a.size());
        for (int rep = 0; rep < 20; rep++) {
            std::vector<float> x = randn(n, 100 + rep, 3.0f);
            if (rep % 2) // values on rounding ties: multiples of 1/4 with amax 127 (d = 1)
                for (int k = 0; k < n; k++) x[k] = k % 32 == 0 ? 127.0f : std::round(x[k] * 4) / 4;
            fn(x.data(), a.data(), n);
            REQUIRE(sm::quant::quantize_rows(q.t, x.data(), b.data(), 1, n));
            CHECK(memcmp(a.data(), b.data(), a.size()) == 0);
        }
    }
    if (fini && ctx) fini(ctx);
}
#endif
