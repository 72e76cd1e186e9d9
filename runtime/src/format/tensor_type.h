// GGML tensor types as numbered in the GGUF specification, and their block geometry.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sm {

enum class TensorType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
};

struct TypeTraits {
    const char *name; // llama.cpp's lower-case name ("q8_0"); nullptr: not a known type
    uint32_t block;   // elements per block
    uint32_t block_bytes;
    bool supported; // SmallMind can compute with it
};

const TypeTraits &type_traits(uint32_t type);
inline const TypeTraits &type_traits(TensorType t) { return type_traits(static_cast<uint32_t>(t)); }
const char *type_name(uint32_t type); // "type 99" style text for unknown ids (static buffer-free)

// Bytes of a row of n elements; 0 if n is not a whole number of blocks.
inline size_t row_bytes(TensorType t, int64_t n) {
    const TypeTraits &tt = type_traits(t);
    if (!tt.block || n % tt.block) return 0;
    return static_cast<size_t>(n / tt.block) * tt.block_bytes;
}

} // namespace sm
