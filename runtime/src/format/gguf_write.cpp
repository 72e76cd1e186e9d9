#include "format/gguf_write.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sm::gguf {

template <class T> void Writer::put(T v) {
    uint8_t b[sizeof(T)];
    memcpy(b, &v, sizeof v);
    meta_.insert(meta_.end(), b, b + sizeof b);
}

void Writer::put_str(std::string_view s) {
    put<uint64_t>(s.size());
    meta_.insert(meta_.end(), s.begin(), s.end());
}

void Writer::key(std::string_view k, uint32_t type) {
    put_str(k);
    put<uint32_t>(type);
    n_kv_++;
}

void Writer::set_string(std::string_view k, std::string_view v) {
    key(k, kString);
    put_str(v);
}
void Writer::set_u32(std::string_view k, uint32_t v) {
    key(k, kU32);
    put(v);
}
void Writer::set_i32(std::string_view k, int32_t v) {
    key(k, kI32);
    put(v);
}
void Writer::set_f32(std::string_view k, float v) {
    key(k, kF32);
    put(v);
}
void Writer::set_bool(std::string_view k, bool v) {
    key(k, kBool);
    put<uint8_t>(v ? 1 : 0);
}

void Writer::set_strings(std::string_view k, const std::vector<std::string_view> &v) {
    key(k, kArray);
    put<uint32_t>(kString);
    put<uint64_t>(v.size());
    for (auto s : v) put_str(s);
}
void Writer::set_f32s(std::string_view k, const std::vector<float> &v) {
    key(k, kArray);
    put<uint32_t>(kF32);
    put<uint64_t>(v.size());
    for (float f : v) put(f);
}
void Writer::set_i32s(std::string_view k, const std::vector<int32_t> &v) {
    key(k, kArray);
    put<uint32_t>(kI32);
    put<uint64_t>(v.size());
    for (int32_t i : v) put(i);
}

bool Writer::copy(const KeyValue &kv) {
    const Value &v = kv.value;
    if (v.type == kString) {
        set_string(kv.key, v.str);
        return true;
    }
    if (v.type == kArray) {
        if (v.elem_type == kArray) return false;
        key(kv.key, kArray);
        put<uint32_t>(v.elem_type);
        put<uint64_t>(v.count);
        if (v.elem_type == kString) {
            for (auto s : v.strings) put_str(s);
        } else {
            const size_t n = static_cast<size_t>(v.count) * value_type_size(v.elem_type);
            meta_.insert(meta_.end(), v.raw, v.raw + n);
        }
        return true;
    }
    key(kv.key, v.type);
    meta_.insert(meta_.end(), v.raw, v.raw + value_type_size(v.type));
    return true;
}

void Writer::add_tensor(std::string_view name, TensorType type, std::vector<int64_t> ne, Fill fill) {
    uint64_t rows = 1;
    for (size_t d = 1; d < ne.size(); d++) rows *= static_cast<uint64_t>(ne[d]);
    uint64_t bytes = row_bytes(type, ne[0]) * rows;
    tensors_.push_back(Tensor{std::string(name), type, std::move(ne), std::move(fill), bytes});
}

sm_status Writer::write(const char *path, Error &err) const {
    std::vector<uint8_t> head;
    auto put_raw = [&](const void *p, size_t n) {
        const uint8_t *b = static_cast<const uint8_t *>(p);
        head.insert(head.end(), b, b + n);
    };
    auto put_u32 = [&](uint32_t v) { put_raw(&v, 4); };
    auto put_u64 = [&](uint64_t v) { put_raw(&v, 8); };
    put_u32(kMagic);
    put_u32(3);
    put_u64(tensors_.size());
    put_u64(n_kv_);
    put_raw(meta_.data(), meta_.size());
    uint64_t offset = 0;
    for (const Tensor &t : tensors_) {
        put_u64(t.name.size());
        put_raw(t.name.data(), t.name.size());
        put_u32(static_cast<uint32_t>(t.ne.size()));
        for (int64_t n : t.ne) put_u64(static_cast<uint64_t>(n));
        put_u32(static_cast<uint32_t>(t.type));
        put_u64(offset);
        offset += (t.bytes + kDefaultAlignment - 1) / kDefaultAlignment * kDefaultAlignment;
    }
    while (head.size() % kDefaultAlignment) head.push_back(0);

    FILE *f = fopen(path, "wb");
    if (!f) return err.set(SM_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
    bool ok = fwrite(head.data(), 1, head.size(), f) == head.size();
    std::vector<uint8_t> buf;
    for (const Tensor &t : tensors_) {
        if (!ok) break;
        size_t padded = (t.bytes + kDefaultAlignment - 1) / kDefaultAlignment * kDefaultAlignment;
        buf.assign(padded, 0);
        t.fill(buf.data(), t.bytes);
        ok = fwrite(buf.data(), 1, padded, f) == padded;
    }
    if (fclose(f) != 0) ok = false;
    if (!ok) return err.set(SM_ERR_IO, "writing '%s' failed: %s", path, strerror(errno));
    return SM_OK;
}

} // namespace sm::gguf
