#include "core/file_map.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sm {

sm_status FileMap::open(const char *path, Error &err) {
    close();
    if (!path) return err.set(SM_ERR_INVALID_ARGUMENT, "file path is NULL");
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return err.set(SM_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return err.set(SM_ERR_IO, "'%s' is not a regular file", path);
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ == 0) {
        ::close(fd);
        static const uint8_t empty = 0;
        data_ = &empty;
        return SM_OK;
    }
    void *p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) {
        size_ = 0;
        return err.set(SM_ERR_IO, "cannot map '%s': %s", path, strerror(errno));
    }
    data_ = static_cast<const uint8_t *>(p);
    mapped_ = true;
    return SM_OK;
}

void FileMap::close() {
    if (mapped_) munmap(const_cast<uint8_t *>(data_), size_);
    data_ = nullptr;
    size_ = 0;
    mapped_ = false;
}

} // namespace sm
