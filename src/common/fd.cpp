#include "common/fd.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace bpfleet {

void Fd::reset(int fd) noexcept {
    if (m_fd >= 0 && m_fd != fd) {
        // Linux frees the descriptor even when close() reports EINTR: never retry.
        ::close(m_fd);
    }
    m_fd = fd;
}

Result<Pipe> make_pipe(int extra_flags) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | extra_flags) != 0) {
        int err = errno;
        return make_error("system", std::string("pipe: ") + std::strerror(err), err);
    }
    return Pipe{Fd(fds[0]), Fd(fds[1])};
}

Result<Fd> open_dev_null() {
    int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        return make_error("system", std::string("cannot open /dev/null: ") + std::strerror(err),
                          err);
    }
    return Fd(fd);
}

} // namespace bpfleet
