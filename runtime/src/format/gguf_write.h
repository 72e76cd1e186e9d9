// Writes GGUF v3 files exactly to the specification: little-endian, u64 counts and
// string lengths, tensor data aligned to general.alignment (32) and padded with zeros.
// Used by `smallmind convert` and `smallmind synth-model`; a tool path, so it may use
// the heap.
#pragma once
#include "core/error.h"
#include "format/gguf.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sm::gguf {

class Writer {
public:
    void set_string(std::string_view key, std::string_view v);
    void set_u32(std::string_view key, uint32_t v);
    void set_i32(std::string_view key, int32_t v);
    void set_f32(std::string_view key, float v);
    void set_bool(std::string_view key, bool v);
    void set_strings(std::string_view key, const std::vector<std::string_view> &v);
    void set_f32s(std::string_view key, const std::vector<float> &v);
    void set_i32s(std::string_view key, const std::vector<int32_t> &v);
    // A key and value read from another file, as they were (false: an array of arrays,
    // which no model key uses).
    bool copy(const KeyValue &kv);

    // fill(dst) writes the tensor's bytes (type and shape give the size) when the file is
    // written, so large models never sit in memory whole.
    using Fill = std::function<void(uint8_t *dst, size_t bytes)>;
    void add_tensor(std::string_view name, TensorType type, std::vector<int64_t> ne, Fill fill);

    sm_status write(const char *path, Error &err) const;

private:
    struct Tensor {
        std::string name;
        TensorType type;
        std::vector<int64_t> ne;
        Fill fill;
        uint64_t bytes;
    };
    void key(std::string_view k, uint32_t type);
    void put_str(std::string_view s);
    template <class T> void put(T v);

    std::vector<uint8_t> meta_;
    uint64_t n_kv_ = 0;
    std::vector<Tensor> tensors_;
};

} // namespace sm::gguf
