// GGUF (llama.cpp's model format), versions 2 and 3: constants, the parsed view of a
// file, and the parser. Everything is validated against the buffer's size; views point
// into the caller's buffer.
#pragma once
#include "core/error.h"
#include "format/tensor_type.h"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace sm::gguf {

constexpr uint32_t kMagic = 0x46554747; // "GGUF" read as a little-endian u32
constexpr uint32_t kDefaultAlignment = 32;
constexpr size_t kMaxTensorName = 63; // llama.cpp's GGML_MAX_NAME - 1
constexpr int kMaxDims = 4;

enum ValueType : uint32_t {
    kU8 = 0,
    kI8 = 1,
    kU16 = 2,
    kI16 = 3,
    kU32 = 4,
    kI32 = 5,
    kF32 = 6,
    kBool = 7,
    kString = 8,
    kArray = 9,
    kU64 = 10,
    kI64 = 11,
    kF64 = 12,
};
const char *value_type_name(uint32_t t);
size_t value_type_size(uint32_t t); // 0 for string and array

struct Value {
    uint32_t type = 0;
    const uint8_t *raw = nullptr;          // scalar bytes, or the first array element
    std::string_view str;                  // kString
    uint32_t elem_type = 0;                // kArray
    uint64_t count = 0;                    // kArray
    std::vector<std::string_view> strings; // kArray of kString

    bool is_integer() const;
    bool is_float() const;
    // Converts any integer (or bool) scalar; false if not one or out of range.
    bool to_i64(int64_t *out) const;
    bool to_f64(double *out) const;
};

struct KeyValue {
    std::string_view key;
    Value value;
};

struct TensorInfo {
    std::string_view name;
    uint32_t n_dims = 0;
    int64_t ne[kMaxDims] = {1, 1, 1, 1}; // ne[0] is the contiguous dimension
    uint32_t type = 0;
    uint64_t offset = 0; // from the start of the data section
    uint64_t bytes = 0;
    int64_t elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

struct File {
    uint32_t version = 0;
    uint32_t alignment = kDefaultAlignment;
    std::vector<KeyValue> kv;
    std::vector<TensorInfo> tensors;
    uint64_t data_offset = 0; // absolute offset of the data section
    uint64_t file_size = 0;

    const Value *find(std::string_view key) const;
    const TensorInfo *tensor(std::string_view name) const;
};

// Parses and validates header, metadata and tensor infos. Tensor data ranges are checked
// to lie inside the buffer, aligned and non-overlapping.
sm_status parse(const uint8_t *data, size_t size, File &out, Error &err);

} // namespace sm::gguf
