// FilePtr: the one owner of a stdio FILE (closed when it goes), for the few
// places that read /proc and /sys line by line or write through stdio.
#pragma once

#include <cstdio>
#include <memory>

namespace bpfleet {

struct FileCloser {
    void operator()(std::FILE* file) const noexcept;
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// fopen(path, mode) with close-on-exec ("e" is added); empty with errno set
// when it fails.
FilePtr open_file(const char* path, const char* mode);

// fdopen(fd, mode): the FilePtr owns `fd` from then on; on failure the caller
// still owns it (errno set).
FilePtr adopt_fd(int fd, const char* mode);

} // namespace bpfleet
