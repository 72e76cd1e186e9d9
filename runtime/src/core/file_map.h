// A read-only view of a whole file (mmap). Loaders parse from it with bounds checks and
// copy what they keep into the arena; the mapping is released when loading ends.
#pragma once
#include "core/error.h"
#include <cstddef>
#include <cstdint>

namespace sm {

class FileMap {
public:
    FileMap() = default;
    FileMap(const FileMap &) = delete;
    FileMap &operator=(const FileMap &) = delete;
    ~FileMap() { close(); }

    sm_status open(const char *path, Error &err);
    void close();
    const uint8_t *data() const { return data_; }
    size_t size() const { return size_; }

private:
    const uint8_t *data_ = nullptr;
    size_t size_ = 0;
    bool mapped_ = false;
};

} // namespace sm
