// bpfleet btf gen's pipeline with the real tools (pahole, bpftool) on a
// small ELF with DWARF made here: a stand-in for a debug vmlinux that has the
// types a kernel's BTF is recognised by and the ones core_task.bpf.o reads.

#include "btf/btf_gen.hpp"
#include "common/subprocess.hpp"
#include "support/require.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

namespace bpfleet::btf {
namespace {

namespace fs = std::filesystem;

class BtfGen : public ::testing::Test {
protected:
    void SetUp() override {
        BPFLEET_REQUIRE(access("/usr/bin/pahole", X_OK) == 0,
                        "pahole (package dwarves) is not installed");
        BPFLEET_REQUIRE(access("/usr/bin/cc", X_OK) == 0, "no C compiler (cc)");
        m_dir = fs::temp_directory_path() / ("bpfleet-btf-gen-" + std::to_string(getpid()));
        fs::remove_all(m_dir);
        fs::create_directories(m_dir);
        std::ofstream(m_dir / "fake_vmlinux.c")
            << "struct pt_regs { unsigned long r15, r14, ip, sp; };\n"
               "struct task_struct { int pid; int tgid; struct task_struct *parent; };\n"
               "struct pt_regs regs;\nstruct task_struct init_task;\n";
        auto cc = run_process({"/usr/bin/cc", "-g", "-c", "-o", (m_dir / "vmlinux").string(),
                               (m_dir / "fake_vmlinux.c").string()});
        ASSERT_TRUE(cc && cc->status.exited() && cc->status.code() == 0)
            << (cc ? cc->err : cc.error().message);
    }
    void TearDown() override { fs::remove_all(m_dir); }
    fs::path m_dir;
};

TEST_F(BtfGen, PaholeMakesAKernelLikeBtf) {
    GenOptions o;
    o.vmlinux = (m_dir / "vmlinux").string();
    o.output = (m_dir / "out.btf").string();
    auto r = generate_btf(o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->bytes, fs::file_size(o.output));
    EXPECT_EQ(r->sha256.size(), 64u);
    EXPECT_EQ(r->arch, "x86_64") << "told by struct pt_regs";
}

TEST_F(BtfGen, MinimisedForAnObject) {
    BPFLEET_REQUIRE(access("/usr/sbin/bpftool", X_OK) == 0, "bpftool is not installed");
    GenOptions o;
    o.vmlinux = (m_dir / "vmlinux").string();
    o.output = (m_dir / "min.btf").string();
    o.min_core = {std::string(BPFLEET_TEST_BPF_DIR) + "/core_task.bpf.o"};
    auto r = generate_btf(o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_LE(r->bytes, r->full_bytes);
    EXPECT_EQ(r->arch, "") << "pt_regs is not among what the object reads";
}

TEST_F(BtfGen, BadInputIsNamed) {
    GenOptions o;
    o.output = (m_dir / "x.btf").string();
    auto none = generate_btf(o);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, "usage");
    o.vmlinux = (m_dir / "missing").string();
    auto missing = generate_btf(o);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("missing"), std::string::npos);
    o.vmlinux = (m_dir / "fake_vmlinux.c").string(); // not ELF
    auto text = generate_btf(o);
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().code, "btf_gen") << text.error().message;
    o.vmlinux.clear();
    o.deb = (m_dir / "fake_vmlinux.c").string(); // not a package
    auto deb = generate_btf(o);
    ASSERT_FALSE(deb);
    EXPECT_EQ(deb.error().code, "btf_gen") << deb.error().message;
}

} // namespace
} // namespace bpfleet::btf
