#include "common/file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>

namespace bpfleet {
namespace {

TEST(File, OpensWithCloseOnExecAndReads) {
    auto f = open_file("/proc/self/status", "r");
    ASSERT_TRUE(f);
    EXPECT_NE(::fcntl(::fileno(f.get()), F_GETFD) & FD_CLOEXEC, 0);
    char line[256];
    ASSERT_NE(std::fgets(line, sizeof line, f.get()), nullptr);
    EXPECT_EQ(std::string(line).rfind("Name:", 0), 0u) << line;
}

TEST(File, MissingFileIsEmptyWithErrno) {
    errno = 0;
    auto f = open_file("/nonexistent/bpfleet-file-test", "r");
    EXPECT_FALSE(f);
    EXPECT_EQ(errno, ENOENT);
}

TEST(File, AdoptedDescriptorIsClosedWithTheFile) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    {
        auto f = adopt_fd(fds[1], "w");
        ASSERT_TRUE(f);
        ASSERT_EQ(std::fputs("x", f.get()), 1);
    }
    // The write end went with the FilePtr: the reader sees the byte, then EOF.
    char buf[4];
    EXPECT_EQ(::read(fds[0], buf, sizeof buf), 1);
    EXPECT_EQ(::read(fds[0], buf, sizeof buf), 0);
    ::close(fds[0]);
}

} // namespace
} // namespace bpfleet
