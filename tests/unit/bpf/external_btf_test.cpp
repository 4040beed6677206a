// inspect_external_btf / check_external_btf on BTF built here with libbpf's
// writer, on this kernel's own BTF when it has one, and on bad input.

#include "bpf/external_btf.hpp"
#include "support/require.hpp"

#include <bpf/btf.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>
#include <vector>

namespace bpfleet::bpf {
namespace {

// Kernel-like BTF: task_struct, and pt_regs with the member that tells the
// architecture ("" for none).
std::vector<std::uint8_t> kernel_like_btf(const char* pt_regs_member) {
    btf* b = btf__new_empty();
    const int u64 = btf__add_int(b, "long unsigned int", 8, 0);
    btf__add_struct(b, "task_struct", 8);
    btf__add_field(b, "pid", u64, 0, 0);
    if (*pt_regs_member) {
        btf__add_struct(b, "pt_regs", 8);
        btf__add_field(b, pt_regs_member, u64, 0, 0);
    }
    __u32 size = 0;
    const auto* raw = static_cast<const std::uint8_t*>(btf__raw_data(b, &size));
    std::vector<std::uint8_t> out(raw, raw + size);
    btf__free(b);
    return out;
}

TEST(ExternalBtf, TellsTheArchitectureFromPtRegs) {
    EXPECT_EQ(inspect_external_btf(kernel_like_btf("r15"), "x")->arch, "x86_64");
    EXPECT_EQ(inspect_external_btf(kernel_like_btf("orig_x0"), "x")->arch, "aarch64");
    EXPECT_EQ(inspect_external_btf(kernel_like_btf("uregs"), "x")->arch, "armv7l");
    auto minimised = inspect_external_btf(kernel_like_btf(""), "x");
    ASSERT_TRUE(minimised) << minimised.error().message;
    EXPECT_EQ(minimised->arch, "");
    EXPECT_EQ(minimised->sha256.size(), 64u);
}

TEST(ExternalBtf, RefusesWhatIsNotAKernelsBtf) {
    const std::vector<std::uint8_t> empty;
    auto e = inspect_external_btf(empty, "empty.btf");
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("empty.btf: not a raw BTF file"), std::string::npos)
        << e.error().message;

    std::vector<std::uint8_t> garbage(4096, 0x5a);
    EXPECT_FALSE(inspect_external_btf(garbage, "garbage.btf"));

    auto cut = kernel_like_btf("r15");
    cut.resize(cut.size() - 5);
    EXPECT_FALSE(inspect_external_btf(cut, "cut.btf"));

    btf* b = btf__new_empty();
    btf__add_int(b, "int", 4, BTF_INT_SIGNED);
    __u32 size = 0;
    const auto* raw = static_cast<const std::uint8_t*>(btf__raw_data(b, &size));
    const std::vector<std::uint8_t> program_btf(raw, raw + size);
    btf__free(b);
    auto p = inspect_external_btf(program_btf, "prog.btf");
    ASSERT_FALSE(p);
    EXPECT_NE(p.error().message.find("task_struct"), std::string::npos) << p.error().message;
}

TEST(ExternalBtf, CheckRefusesAnotherArchitectureAndMissingFiles) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("bpfleet-external-btf-" + std::to_string(getpid()) + ".btf");
    const auto bytes = kernel_like_btf("orig_x0");
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    auto arm64_on_x86 = check_external_btf(path.string(), "x86_64");
    ASSERT_FALSE(arm64_on_x86);
    EXPECT_NE(arm64_on_x86.error().message.find("aarch64"), std::string::npos);
    EXPECT_TRUE(check_external_btf(path.string(), "aarch64"));
    EXPECT_TRUE(check_external_btf(path.string(), ""));
    std::filesystem::remove(path);

    auto missing = check_external_btf("/nonexistent/vmlinux.btf", "x86_64");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("/nonexistent/vmlinux.btf"), std::string::npos);
    EXPECT_FALSE(check_external_btf("/tmp", "x86_64")) << "a folder is no BTF file";
}

TEST(ExternalBtf, ThisKernelsOwnBtfPasses) {
    BPFLEET_REQUIRE(access("/sys/kernel/btf/vmlinux", R_OK) == 0, "this kernel has no BTF");
    auto facts = check_external_btf("/sys/kernel/btf/vmlinux", "");
    ASSERT_TRUE(facts) << facts.error().message;
    EXPECT_GT(facts->types, 1000u);
#if defined(__x86_64__)
    EXPECT_EQ(facts->arch, "x86_64");
#endif
}

} // namespace
} // namespace bpfleet::bpf
