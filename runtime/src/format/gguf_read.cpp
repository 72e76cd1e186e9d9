#include "format/gguf.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sm::gguf {

const char *value_type_name(uint32_t t) {
    static const char *names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
    return t < 13 ? names[t] : "unknown";
}

size_t value_type_size(uint32_t t) {
    static const size_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t < 13 ? sizes[t] : 0;
}

bool Value::is_integer() const {
    return type == kU8 || type == kI8 || type == kU16 || type == kI16 || type == kU32 || type == kI32 || type == kU64 ||
           type == kI64 || type == kBool;
}
bool Value::is_float() const { return type == kF32 || type == kF64; }

template <class T> static T load(const uint8_t *p) {
    T v;
    memcpy(&v, p, sizeof v);
    return v;
}

bool Value::to_i64(int64_t *out) const {
    switch (type) {
    case kU8:
    case kBool: *out = load<uint8_t>(raw); return true;
    case kI8: *out = load<int8_t>(raw); return true;
    case kU16: *out = load<uint16_t>(raw); return true;
    case kI16: *out = load<int16_t>(raw); return true;
    case kU32: *out = load<uint32_t>(raw); return true;
    case kI32: *out = load<int32_t>(raw); return true;
    case kI64: *out = load<int64_t>(raw); return true;
    case kU64: {
        uint64_t v = load<uint64_t>(raw);
        if (v > static_cast<uint64_t>(INT64_MAX)) return false;
        *out = static_cast<int64_t>(v);
        return true;
    }
    default: return false;
    }
}

bool Value::to_f64(double *out) const {
    if (type == kF32) {
        *out = load<float>(raw);
        return true;
    }
    if (type == kF64) {
        *out = load<double>(raw);
        return true;
    }
    int64_t i;
    if (to_i64(&i)) {
        *out = static_cast<double>(i);
        return true;
    }
    return false;
}

const Value *File::find(std::string_view key) const {
    for (const KeyValue &e : kv)
        if (e.key == key) return &e.value;
    return nullptr;
}

const TensorInfo *File::tensor(std::string_view name) const {
    for (const TensorInfo &t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

namespace {

// A cursor that never reads past the end: every read checks what is left.
struct Cursor {
    const uint8_t *base;
    size_t size, pos = 0;
    Error &err;

    bool need(size_t n, const char *what) {
        if (size - pos < n) {
            err.set(SM_ERR_FORMAT, "truncated at byte %zu: %s needs %zu bytes, %zu left", pos, what, n, size - pos);
            return false;
        }
        return true;
    }
    template <class T> bool read(T *v, const char *what) {
        if (!need(sizeof(T), what)) return false;
        memcpy(v, base + pos, sizeof(T));
        pos += sizeof(T);
        return true;
    }
    bool string(std::string_view *s, const char *what) {
        uint64_t n;
        if (!read(&n, what)) return false;
        if (n > size - pos) {
            err.set(SM_ERR_FORMAT, "%s at byte %zu: string length %llu exceeds the %zu bytes left", what, pos - 8,
                    static_cast<unsigned long long>(n), size - pos);
            return false;
        }
        *s = std::string_view(reinterpret_cast<const char *>(base + pos), static_cast<size_t>(n));
        pos += static_cast<size_t>(n);
        return true;
    }
};

bool parse_value(Cursor &c, uint32_t type, Value &v, std::string_view key, int depth) {
    v.type = type;
    if (type == kString) return c.string(&v.str, "string value");
    if (type == kArray) {
        if (depth > 0) {
            c.err.set(SM_ERR_FORMAT, "key '%.*s': arrays nested deeper than two levels", (int)key.size(), key.data());
            return false;
        }
        if (!c.read(&v.elem_type, "array type") || !c.read(&v.count, "array length")) return false;
        if (v.elem_type > kF64) {
            c.err.set(SM_ERR_FORMAT, "key '%.*s': unknown array element type %u", (int)key.size(), key.data(), v.elem_type);
            return false;
        }
        v.raw = c.base + c.pos;
        size_t es = value_type_size(v.elem_type);
        if (es) {
            if (v.count > (c.size - c.pos) / es) {
                c.err.set(SM_ERR_FORMAT, "key '%.*s': array of %llu %s overruns the file", (int)key.size(), key.data(),
                          static_cast<unsigned long long>(v.count), value_type_name(v.elem_type));
                return false;
            }
            c.pos += static_cast<size_t>(v.count * es);
            return true;
        }
        // Strings (8 bytes each at least) or nested arrays (12 bytes each at least).
        size_t min_each = v.elem_type == kString ? 8 : 12;
        if (v.count > (c.size - c.pos) / min_each) {
            c.err.set(SM_ERR_FORMAT, "key '%.*s': array of %llu elements overruns the file", (int)key.size(), key.data(),
                      static_cast<unsigned long long>(v.count));
            return false;
        }
        if (v.elem_type == kString) {
            v.strings.resize(static_cast<size_t>(v.count));
            for (auto &s : v.strings)
                if (!c.string(&s, "array string")) return false;
        } else {
            Value inner;
            for (uint64_t i = 0; i < v.count; i++) {
                uint32_t t;
                if (!c.read(&t, "nested array type")) return false;
                if (t != kArray) {
                    c.err.set(SM_ERR_FORMAT, "key '%.*s': array of arrays has an element of type %u", (int)key.size(), key.data(),
                              t);
                    return false;
                }
                if (!parse_value(c, kArray, inner, key, depth + 1)) return false;
            }
        }
        return true;
    }
    size_t n = value_type_size(type);
    if (!n) {
        c.err.set(SM_ERR_FORMAT, "key '%.*s': unknown value type %u", (int)key.size(), key.data(), type);
        return false;
    }
    if (!c.need(n, "scalar value")) return false;
    v.raw = c.base + c.pos;
    c.pos += n;
    return true;
}

} // namespace

sm_status parse(const uint8_t *data, size_t size, File &out, Error &err) {
    out = File{};
    out.file_size = size;
    Cursor c{data, size, 0, err};
    uint32_t magic;
    if (!c.read(&magic, "magic")) return err.code;
    if (magic != kMagic) return err.set(SM_ERR_FORMAT, "not a GGUF file (magic 0x%08x)", magic);
    if (!c.read(&out.version, "version")) return err.code;
    if (out.version == 1) return err.set(SM_ERR_UNSUPPORTED, "GGUF version 1 is obsolete; reconvert the model");
    if (out.version == 0x02000000u || out.version == 0x03000000u)
        return err.set(SM_ERR_UNSUPPORTED, "big-endian GGUF files are not supported");
    if (out.version != 2 && out.version != 3) return err.set(SM_ERR_FORMAT, "unknown GGUF version %u", out.version);
    uint64_t n_tensors, n_kv;
    if (!c.read(&n_tensors, "tensor count") || !c.read(&n_kv, "metadata count")) return err.code;
    // Each KV needs >= 12 bytes and each tensor info >= 24: reject absurd counts early.
    if (n_kv > (size - c.pos) / 12)
        return err.set(SM_ERR_FORMAT, "metadata count %llu exceeds the file", (unsigned long long)n_kv);
    if (n_tensors > (size - c.pos) / 24)
        return err.set(SM_ERR_FORMAT, "tensor count %llu exceeds the file", (unsigned long long)n_tensors);

    out.kv.resize(static_cast<size_t>(n_kv));
    for (uint64_t i = 0; i < n_kv; i++) {
        KeyValue &e = out.kv[static_cast<size_t>(i)];
        if (!c.string(&e.key, "metadata key")) return err.code;
        if (e.key.empty()) return err.set(SM_ERR_FORMAT, "metadata entry %llu has an empty key", (unsigned long long)i);
        for (uint64_t j = 0; j < i; j++)
            if (out.kv[static_cast<size_t>(j)].key == e.key)
                return err.set(SM_ERR_FORMAT, "duplicate metadata key '%.*s'", (int)e.key.size(), e.key.data());
        uint32_t type;
        if (!c.read(&type, "value type")) return err.code;
        if (!parse_value(c, type, e.value, e.key, 0)) return err.code;
    }

    if (const Value *a = out.find("general.alignment")) {
        if (a->type != kU32)
            return err.set(SM_ERR_FORMAT, "general.alignment has type %s, expected u32", value_type_name(a->type));
        uint32_t al = load<uint32_t>(a->raw);
        if (al == 0 || (al & (al - 1))) return err.set(SM_ERR_FORMAT, "general.alignment %u is not a power of two", al);
        out.alignment = al;
    }

    out.tensors.resize(static_cast<size_t>(n_tensors));
    for (uint64_t i = 0; i < n_tensors; i++) {
        TensorInfo &t = out.tensors[static_cast<size_t>(i)];
        if (!c.string(&t.name, "tensor name")) return err.code;
        if (t.name.empty() || t.name.size() > kMaxTensorName)
            return err.set(SM_ERR_FORMAT, "tensor %llu: name length %zu not in 1..%zu", (unsigned long long)i, t.name.size(),
                           kMaxTensorName);
        if (!c.read(&t.n_dims, "tensor dims")) return err.code;
        if (t.n_dims == 0 || t.n_dims > kMaxDims)
            return err.set(SM_ERR_FORMAT, "tensor '%.*s': %u dimensions (1..4 allowed)", (int)t.name.size(), t.name.data(),
                           t.n_dims);
        for (uint32_t d = 0; d < t.n_dims; d++) {
            uint64_t n;
            if (!c.read(&n, "tensor dim")) return err.code;
            if (n == 0 || n > (1ull << 40))
                return err.set(SM_ERR_FORMAT, "tensor '%.*s': dimension %u is %llu", (int)t.name.size(), t.name.data(), d,
                               (unsigned long long)n);
            t.ne[d] = static_cast<int64_t>(n);
        }
        if (!c.read(&t.type, "tensor type") || !c.read(&t.offset, "tensor offset")) return err.code;
        const TypeTraits &tt = type_traits(t.type);
        if (!tt.name)
            return err.set(SM_ERR_UNSUPPORTED, "tensor '%.*s': unknown tensor type %u", (int)t.name.size(), t.name.data(),
                           t.type);
        if (t.ne[0] % tt.block)
            return err.set(SM_ERR_FORMAT, "tensor '%.*s': row of %lld is not a multiple of the %s block (%u)", (int)t.name.size(),
                           t.name.data(), (long long)t.ne[0], tt.name, tt.block);
        // Overflow-safe size: each dim <= 2^40 and the product must stay below 2^62.
        long double elems = 1;
        for (int d = 0; d < kMaxDims; d++) elems *= static_cast<long double>(t.ne[d]);
        if (elems > 4.0e18L)
            return err.set(SM_ERR_FORMAT, "tensor '%.*s' is impossibly large", (int)t.name.size(), t.name.data());
        t.bytes = static_cast<uint64_t>(t.ne[0] / tt.block) * tt.block_bytes * static_cast<uint64_t>(t.ne[1]) *
                  static_cast<uint64_t>(t.ne[2]) * static_cast<uint64_t>(t.ne[3]);
        if (t.offset % out.alignment)
            return err.set(SM_ERR_FORMAT, "tensor '%.*s': offset %llu is not aligned to %u", (int)t.name.size(), t.name.data(),
                           (unsigned long long)t.offset, out.alignment);
        for (uint64_t j = 0; j < i; j++)
            if (out.tensors[static_cast<size_t>(j)].name == t.name)
                return err.set(SM_ERR_FORMAT, "duplicate tensor name '%.*s'", (int)t.name.size(), t.name.data());
    }

    out.data_offset = (c.pos + out.alignment - 1) / out.alignment * out.alignment;
    if (n_tensors && out.data_offset > size)
        return err.set(SM_ERR_FORMAT, "truncated: the data section would start at byte %llu of %zu",
                       (unsigned long long)out.data_offset, size);
    const uint64_t data_size = size - std::min<uint64_t>(out.data_offset, size);
    std::vector<const TensorInfo *> order;
    order.reserve(out.tensors.size());
    for (const TensorInfo &t : out.tensors) {
        if (t.offset > data_size || t.bytes > data_size - t.offset)
            return err.set(SM_ERR_FORMAT,
                           "truncated: tensor '%.*s' (%llu bytes at data offset %llu) ends past the file's %llu data bytes",
                           (int)t.name.size(), t.name.data(), (unsigned long long)t.bytes, (unsigned long long)t.offset,
                           (unsigned long long)data_size);
        order.push_back(&t);
    }
    std::sort(order.begin(), order.end(), [](const TensorInfo *a, const TensorInfo *b) { return a->offset < b->offset; });
    for (size_t i = 1; i < order.size(); i++)
        if (order[i - 1]->offset + order[i - 1]->bytes > order[i]->offset)
            return err.set(SM_ERR_FORMAT, "tensors '%.*s' and '%.*s' overlap", (int)order[i - 1]->name.size(),
                           order[i - 1]->name.data(), (int)order[i]->name.size(), order[i]->name.data());
    return SM_OK;
}

} // namespace sm::gguf
