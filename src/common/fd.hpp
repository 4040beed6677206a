// Fd: the one owner of a file descriptor, and Pipe, a pair of them.
//
// Fd is move-only; it closes its descriptor when it is destroyed or reset, and
// never throws. It is not thread-safe (like any value). The descriptors made
// here are close-on-exec: a child gets only what a spawn hands it on purpose.
#pragma once

#include "common/result.hpp"

namespace bpfleet {

class Fd {
public:
    Fd() noexcept = default;
    explicit Fd(int fd) noexcept : m_fd(fd) {}
    Fd(Fd&& other) noexcept : m_fd(other.release()) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset(other.release());
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    // The descriptor, -1 when none. It stays owned by this Fd.
    [[nodiscard]] int get() const noexcept { return m_fd; }
    [[nodiscard]] bool valid() const noexcept { return m_fd >= 0; }
    explicit operator bool() const noexcept { return valid(); }

    // Gives the descriptor up (the caller closes it); this Fd is empty after.
    [[nodiscard]] int release() noexcept {
        int fd = m_fd;
        m_fd = -1;
        return fd;
    }
    // Closes the current descriptor (if any) and takes `fd`.
    void reset(int fd = -1) noexcept;

private:
    int m_fd = -1;
};

struct Pipe {
    Fd read;
    Fd write;
};

// pipe2(O_CLOEXEC | extra_flags); errors name the errno.
Result<Pipe> make_pipe(int extra_flags = 0);

// Opens /dev/null (O_RDWR | O_CLOEXEC).
Result<Fd> open_dev_null();

} // namespace bpfleet
