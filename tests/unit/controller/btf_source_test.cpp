// pick_btf: a host's external BTF from a file, a .btf.tar.xz, a BTFHub tree
// or a btfgen folder, picked by the host's facts; bad input refused.

#include "btf/btf_source.hpp"
#include "common/subprocess.hpp"
#include "support/require.hpp"

#include <bpf/btf.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

namespace bpfleet::btf {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRelease = "6.1.0-50-cloud-amd64";

// Kernel-like BTF whose struct pt_regs says the architecture.
std::string kernel_like_btf(const char* pt_regs_member, int tag = 0) {
    ::btf* b = btf__new_empty();
    const int u64 = btf__add_int(b, "long unsigned int", 8, 0);
    btf__add_struct(b, "task_struct", 8);
    btf__add_field(b, tag ? "tgid" : "pid", u64, 0, 0);
    btf__add_struct(b, "pt_regs", 8);
    btf__add_field(b, pt_regs_member, u64, 0, 0);
    __u32 size = 0;
    const auto* raw = static_cast<const char*>(btf__raw_data(b, &size));
    std::string out(raw, size);
    btf__free(b);
    return out;
}

class PickBtf : public ::testing::Test {
protected:
    void SetUp() override {
        m_root = fs::temp_directory_path() / ("bpfleet-pick-btf-" + std::to_string(getpid()));
        fs::remove_all(m_root);
        fs::create_directories(m_root);
        m_facts.arch = "x86_64";
        m_facts.kernel.release = kRelease;
        m_facts.os.id = "debian";
        m_facts.os.version_id = "12";
    }
    void TearDown() override { fs::remove_all(m_root); }

    fs::path write(const fs::path& rel, const std::string& bytes) {
        const fs::path p = m_root / rel;
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary)
            .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        return p;
    }

    fs::path m_root;
    HostFacts m_facts;
};

TEST_F(PickBtf, AFileIsTakenAsItIs) {
    const auto p = write("vmlinux.btf", kernel_like_btf("r15"));
    auto f = pick_btf(p.string(), m_facts);
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_EQ(f->name, p.string());
    EXPECT_EQ(f->sha256.size(), 64u);
    EXPECT_EQ(f->bytes->size(), fs::file_size(p));
}

TEST_F(PickBtf, ABtfhubTreeIsLookedUpByTheHostsFacts) {
    write(std::string("debian/12/x86_64/") + kRelease + ".btf", kernel_like_btf("r15", 1));
    write(std::string("debian/12/arm64/") + kRelease + ".btf", kernel_like_btf("orig_x0"));
    write("debian/12/x86_64/6.1.0-49-cloud-amd64.btf", kernel_like_btf("r15"));
    auto f = pick_btf(m_root.string(), m_facts);
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_EQ(f->name, (m_root / "debian/12/x86_64" / (std::string(kRelease) + ".btf")).string());

    m_facts.kernel.release = "6.1.0-99-cloud-amd64";
    auto none = pick_btf(m_root.string(), m_facts);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, "btf_not_found");
    EXPECT_NE(none.error().message.find("debian/12/x86_64/6.1.0-99-cloud-amd64.btf"),
              std::string::npos)
        << none.error().message;
}

// A gadget's btfgen layer: files named for the release under an
// architecture's folder; another architecture's is never taken.
TEST_F(PickBtf, ABtfgenFolderIsSearchedByReleaseAndArchitecture) {
    write(std::string("btfs/arm64/debian/12/") + kRelease + ".btf", kernel_like_btf("orig_x0"));
    auto only_foreign = pick_btf(m_root.string(), m_facts);
    ASSERT_FALSE(only_foreign);
    EXPECT_EQ(only_foreign.error().code, "btf_not_found");
    write(std::string("btfs/x86_64/debian/12/") + kRelease + ".btf", kernel_like_btf("r15"));
    auto f = pick_btf(m_root.string(), m_facts);
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_NE(f->name.find("btfs/x86_64/"), std::string::npos) << f->name;
}

TEST_F(PickBtf, AnotherArchitecturesBtfIsRefused) {
    const auto p = write("arm64.btf", kernel_like_btf("orig_x0"));
    auto f = pick_btf(p.string(), m_facts);
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, "external_btf");
    EXPECT_NE(f.error().message.find("aarch64"), std::string::npos) << f.error().message;
}

TEST_F(PickBtf, CorruptAndMissingFilesAreRefused) {
    std::string cut = kernel_like_btf("r15");
    cut.resize(cut.size() - 3);
    auto c = pick_btf(write("cut.btf", cut).string(), m_facts);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, "external_btf");
    EXPECT_NE(c.error().message.find("cut.btf"), std::string::npos);
    auto missing = pick_btf((m_root / "nothing").string(), m_facts);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "btf_not_found");
}

TEST_F(PickBtf, ABtfhubArchiveIsUnpackedAndABombIsRefused) {
    BPFLEET_REQUIRE(access("/usr/bin/xz", X_OK) == 0, "xz (package xz-utils) is not installed");
    write(std::string("src/") + kRelease + ".btf", kernel_like_btf("r15"));
    const fs::path dir = m_root / "debian/12/x86_64";
    fs::create_directories(dir);
    const fs::path archive = dir / (std::string(kRelease) + ".btf.tar.xz");
    auto made = run_process({"tar", "-C", (m_root / "src").string(), "-cJf", archive.string(),
                             std::string(kRelease) + ".btf"});
    ASSERT_TRUE(made && made->status.exited() && made->status.code() == 0);
    auto f = pick_btf(m_root.string(), m_facts);
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_EQ(f->name, archive.string() + ":" + kRelease + ".btf");

    // 80 MiB of zeros, a few KiB packed: over the BTF limit, refused while
    // unpacking.
    const fs::path big = m_root / "bomb" / (std::string(kRelease) + ".btf");
    fs::create_directories(big.parent_path());
    std::ofstream(big).close();
    fs::resize_file(big, 80u << 20);
    const fs::path bomb = m_root / "bomb.btf.tar.xz";
    made = run_process(
        {"tar", "-C", big.parent_path().string(), "-cJf", bomb.string(), big.filename().string()});
    ASSERT_TRUE(made && made->status.exited() && made->status.code() == 0);
    ASSERT_LT(fs::file_size(bomb), 1u << 20);
    auto b = pick_btf(bomb.string(), m_facts);
    ASSERT_FALSE(b);
    EXPECT_NE(b.error().message.find("bomb.btf.tar.xz"), std::string::npos) << b.error().message;
}

} // namespace
} // namespace bpfleet::btf
