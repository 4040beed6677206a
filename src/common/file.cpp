#include "common/file.hpp"

#include <string>

namespace bpfleet {

void FileCloser::operator()(std::FILE* file) const noexcept {
    // The one place that closes a FILE: every owner goes through FilePtr.
    std::fclose(file); // NOLINT(cppcoreguidelines-owning-memory)
}

FilePtr open_file(const char* path, const char* mode) {
    const std::string with_cloexec = std::string(mode) + "e";
    return FilePtr(std::fopen(path, with_cloexec.c_str()));
}

FilePtr adopt_fd(int fd, const char* mode) {
    return FilePtr(::fdopen(fd, mode));
}

} // namespace bpfleet
