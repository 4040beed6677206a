// Fd: one owner, moves, release and reset; Pipe and /dev/null are close-on-exec.
#include "common/fd.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <type_traits>
#include <unistd.h>

namespace bpfleet {
namespace {

bool is_open(int fd) {
    return fcntl(fd, F_GETFD) >= 0;
}

static_assert(!std::is_copy_constructible_v<Fd> && !std::is_copy_assignable_v<Fd>);
static_assert(std::is_nothrow_move_constructible_v<Fd> && std::is_nothrow_move_assignable_v<Fd>);

TEST(Fd, ClosesOnDestruction) {
    int raw = -1;
    {
        auto null = open_dev_null();
        ASSERT_TRUE(null);
        raw = null->get();
        EXPECT_TRUE(is_open(raw));
        EXPECT_TRUE(fcntl(raw, F_GETFD) & FD_CLOEXEC);
    }
    EXPECT_FALSE(is_open(raw));
}

TEST(Fd, MoveTransfersOwnership) {
    Fd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int raw = a.get();
    Fd b(std::move(a));
    EXPECT_FALSE(a.valid()); // NOLINT(bugprone-use-after-move): the point of the test
    EXPECT_EQ(b.get(), raw);
    Fd c;
    EXPECT_FALSE(c);
    c = std::move(b);
    EXPECT_EQ(c.get(), raw);
    EXPECT_TRUE(is_open(raw));
    Fd d(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int other = d.get();
    d = std::move(c); // d's old descriptor is closed, raw moves in
    EXPECT_FALSE(is_open(other));
    EXPECT_EQ(d.get(), raw);
    EXPECT_TRUE(is_open(raw));
}

TEST(Fd, ReleaseAndReset) {
    Fd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    int raw = a.release();
    EXPECT_FALSE(a);
    EXPECT_TRUE(is_open(raw));
    a.reset(raw);
    EXPECT_EQ(a.get(), raw);
    a.reset(raw); // the same descriptor again: still open, still owned
    EXPECT_TRUE(is_open(raw));
    a.reset();
    EXPECT_FALSE(is_open(raw));
    EXPECT_EQ(a.get(), -1);
}

TEST(Fd, PipeIsCloseOnExecAndWorks) {
    auto p = make_pipe();
    ASSERT_TRUE(p);
    EXPECT_TRUE(fcntl(p->read.get(), F_GETFD) & FD_CLOEXEC);
    EXPECT_TRUE(fcntl(p->write.get(), F_GETFD) & FD_CLOEXEC);
    ASSERT_EQ(::write(p->write.get(), "ab", 2), 2);
    p->write.reset();
    char buf[4];
    EXPECT_EQ(::read(p->read.get(), buf, sizeof buf), 2);
    EXPECT_EQ(::read(p->read.get(), buf, sizeof buf), 0);
    auto nb = make_pipe(O_NONBLOCK);
    ASSERT_TRUE(nb);
    EXPECT_TRUE(fcntl(nb->read.get(), F_GETFL) & O_NONBLOCK);
}

} // namespace
} // namespace bpfleet
