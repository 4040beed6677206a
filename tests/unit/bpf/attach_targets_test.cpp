// What attaches look up on the host (src/bpf/attach_targets.cpp): the first
// available kernel function from /proc/kallsyms, and the file offset of one of
// this executable's own functions (what a uprobe on the agent needs).
#include "bpf/attach_targets.hpp"
#include "support/require.hpp"

#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <vector>

namespace bpfleet::bpf {
namespace {

extern "C" __attribute__((noinline, used)) int bpfleet_test_probe_target(int value) {
    asm volatile("" : : "r"(value) : "memory");
    return value * 3 + 1;
}

TEST(AttachTargets, OwnFunctionOffsetPointsAtItsCodeInTheFile) {
    const void* fn = reinterpret_cast<const void*>(&bpfleet_test_probe_target);
    auto offset = own_function_offset(fn);
    ASSERT_TRUE(offset);
    // The bytes at that offset of the executable are the function's code.
    std::ifstream exe("/proc/self/exe", std::ios::binary);
    ASSERT_TRUE(exe);
    exe.seekg(static_cast<std::streamoff>(*offset));
    std::vector<char> in_file(16);
    exe.read(in_file.data(), static_cast<std::streamsize>(in_file.size()));
    ASSERT_EQ(exe.gcount(), static_cast<std::streamsize>(in_file.size()));
    EXPECT_EQ(std::memcmp(in_file.data(), fn, in_file.size()), 0);
}

TEST(AttachTargets, OwnFunctionOffsetOfDataIsNone) {
    static const int kNotCode = 42;
    EXPECT_FALSE(own_function_offset(&kNotCode));
}

bool have_kallsyms_names() {
    std::ifstream f("/proc/kallsyms");
    std::string addr, type, name;
    return static_cast<bool>(f >> addr >> type >> name);
}

TEST(AttachTargets, KallsymsCandidateInOrderOfPreference) {
    BPFLEET_REQUIRE(have_kallsyms_names(), "/proc/kallsyms is not readable here");
    EXPECT_EQ(read_kallsyms_candidate({"bpfleet_no_such_function", "vfs_read", "vfs_write"}),
              "vfs_read");
    EXPECT_EQ(read_kallsyms_candidate({"vfs_write", "vfs_read"}), "vfs_write");
    EXPECT_EQ(read_kallsyms_candidate({"bpfleet_no_such_function"}), "");
    EXPECT_EQ(read_kallsyms_candidate({}), "");
}

} // namespace
} // namespace bpfleet::bpf
