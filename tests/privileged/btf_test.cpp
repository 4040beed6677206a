// Kernels without BTF, simulated on this one (--ignore-kernel-btf hides
// /sys/kernel/btf from the check), and external BTF given with --btf: real
// loads through the real agent binary. docs/btf.md.

#include "common/sha256.hpp"
#include "common/subprocess.hpp"
#include "privileged/agent_runner.hpp"
#include "support/require.hpp"

#include <algorithm>
#include <bpf/btf.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace bpfleet::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kKernelBtf = "/sys/kernel/btf/vmlinux";

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string bytes(fs::file_size(path), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return bytes;
}

void write_bytes(const fs::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class ExternalBtf : public ::testing::Test {
protected:
    void SetUp() override {
        BPFLEET_REQUIRE(is_root(), "loading BPF programs needs root");
        BPFLEET_REQUIRE(bpf_available(), "the kernel refuses BPF programs here");
        BPFLEET_REQUIRE(access(kKernelBtf, R_OK) == 0, "this kernel has no BTF to copy");
        char tmpl[] = "/tmp/bpfleet-btf-test.XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        m_dir = tmpl;
        m_copy = m_dir / "vmlinux.btf";
        fs::copy_file(kKernelBtf, m_copy);
    }
    void TearDown() override {
        if (!m_dir.empty()) {
            fs::remove_all(m_dir);
        }
    }

    static AgentRun check(const std::string& object, std::vector<std::string> extra) {
        std::vector<std::string> args = {"check", "--object", test_object(object)};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_agent(args);
    }

    fs::path m_dir;
    fs::path m_copy;
};

TEST_F(ExternalBtf, CoreObjectWithoutKernelBtfIsMissingKernelBtf) {
    for (bool load_only : {true, false}) {
        std::vector<std::string> extra = {"--ignore-kernel-btf"};
        if (load_only) {
            extra.emplace_back("--load-only");
        }
        auto run = check("core_task", extra);
        ASSERT_TRUE(run.report) << run.parse_error << run.err;
        EXPECT_EQ(run.exit_status, 1) << run.err;
        ASSERT_TRUE(run.report->btf);
        EXPECT_EQ(run.report->btf->source, "none");
        const auto& load = run.report->programs.at(0).load;
        EXPECT_EQ(load.verdict, Verdict::Fail);
        EXPECT_EQ(load.code, FailureCode::MissingKernelBtf) << load.evidence;
    }
}

TEST_F(ExternalBtf, TheKernelsOwnBtfIsNamedWhenNothingIsIgnored) {
    auto run = check("core_task", {"--load-only", "--btf", m_copy.string()});
    ASSERT_TRUE(run.report) << run.parse_error << run.err;
    EXPECT_EQ(run.exit_status, 0) << run.err;
    ASSERT_TRUE(run.report->btf);
    EXPECT_EQ(run.report->btf->source, "kernel") << "external BTF is for kernels without their own";
    EXPECT_EQ(run.report->btf->path, kKernelBtf);

    auto forced = check("core_task", {"--load-only", "--btf", m_copy.string(), "--force-btf"});
    ASSERT_TRUE(forced.report) << forced.parse_error << forced.err;
    EXPECT_EQ(forced.exit_status, 0) << forced.err;
    ASSERT_TRUE(forced.report->btf);
    EXPECT_EQ(forced.report->btf->source, "external");
}

TEST_F(ExternalBtf, ACopyOfTheKernelsBtfLetsTheCoreObjectLoadAndRun) {
    auto run = check("core_task", {"--ignore-kernel-btf", "--btf", m_copy.string()});
    ASSERT_TRUE(run.report) << run.parse_error << run.err;
    EXPECT_EQ(run.exit_status, 0) << run.err;
    const auto& p = run.report->programs.at(0);
    EXPECT_EQ(p.load.verdict, Verdict::Pass) << p.load.evidence;
    ASSERT_TRUE(p.attach);
    EXPECT_EQ(p.attach->verdict, Verdict::Pass) << p.attach->message;
    ASSERT_TRUE(run.report->btf);
    EXPECT_EQ(run.report->btf->source, "external");
    EXPECT_EQ(run.report->btf->path, m_copy.string());
    EXPECT_EQ(run.report->btf->sha256, Sha256::hex_of(read_bytes(m_copy)));
}

TEST_F(ExternalBtf, AMinimisedBtfFromBpftoolIsEnough) {
    const fs::path bpftool = "/usr/sbin/bpftool";
    BPFLEET_REQUIRE(fs::exists(bpftool), "bpftool (package bpftool) is not installed");
    const fs::path min = m_dir / "core_task.min.btf";
    auto made = run_process({bpftool.string(), "gen", "min_core_btf", m_copy.string(), min.string(),
                             test_object("core_task")},
                            {});
    ASSERT_TRUE(made) << made.error().describe();
    ASSERT_TRUE(made->status.exited() && made->status.code() == 0) << made->err;
    ASSERT_LT(fs::file_size(min), fs::file_size(m_copy) / 100) << "not minimised";

    auto run = check("core_task", {"--ignore-kernel-btf", "--load-only", "--btf", min.string()});
    ASSERT_TRUE(run.report) << run.parse_error << run.err;
    EXPECT_EQ(run.exit_status, 0) << run.err;
    EXPECT_EQ(run.report->programs.at(0).load.verdict, Verdict::Pass)
        << run.report->programs.at(0).load.evidence;
    EXPECT_EQ(run.report->btf->path, min.string());
}

TEST_F(ExternalBtf, FentryNeedsTheKernelsOwnBtfEvenWithExternalBtf) {
    auto run = check("fentry", {"--ignore-kernel-btf", "--load-only", "--btf", m_copy.string()});
    ASSERT_TRUE(run.report) << run.parse_error << run.err;
    const auto& load = run.report->programs.at(0).load;
    EXPECT_EQ(load.verdict, Verdict::Fail);
    EXPECT_EQ(load.code, FailureCode::MissingKernelBtf) << load.evidence;
    EXPECT_NE(load.message.find("kernel's own BTF"), std::string::npos) << load.message;
}

TEST_F(ExternalBtf, ACorruptBtfFileStopsTheCheckBeforeAnythingLoads) {
    const fs::path bad = m_dir / "corrupt.btf";
    std::string bytes = read_bytes(m_copy);
    bytes.resize(bytes.size() / 2); // cut: the header promises more than is there
    write_bytes(bad, bytes);
    for (const fs::path& file : {bad, fs::path(test_object("core_task"))}) {
        auto run = check("core_task", {"--ignore-kernel-btf", "--btf", file.string()});
        ASSERT_TRUE(run.report) << run.parse_error << run.err;
        EXPECT_EQ(run.exit_status, 2) << run.err;
        ASSERT_TRUE(run.report->object_error);
        EXPECT_EQ(run.report->object_error->code, FailureCode::MissingKernelBtf);
        EXPECT_NE(run.report->object_error->message.find(file.string()), std::string::npos)
            << run.report->object_error->message;
        EXPECT_TRUE(run.report->programs.empty());
    }
}

// BTF whose struct pt_regs has 32-bit ARM's layout: refused on this host.
TEST_F(ExternalBtf, BtfOfAnotherArchitectureIsRefused) {
    btf* b = btf__new_empty();
    ASSERT_NE(b, nullptr);
    const int u32 = btf__add_int(b, "unsigned int", 4, 0);
    const int task = btf__add_struct(b, "task_struct", 4);
    btf__add_field(b, "pid", u32, 0, 0);
    const int arr = btf__add_array(b, u32, u32, 18);
    btf__add_struct(b, "pt_regs", 72);
    btf__add_field(b, "uregs", arr, 0, 0);
    ASSERT_GT(task, 0);
    __u32 size = 0;
    const void* raw = btf__raw_data(b, &size);
    const fs::path arm = m_dir / "armv7l.btf";
    write_bytes(arm, std::string_view(static_cast<const char*>(raw), size));
    btf__free(b);

    auto run = check("core_task", {"--ignore-kernel-btf", "--load-only", "--btf", arm.string()});
    ASSERT_TRUE(run.report) << run.parse_error << run.err;
    EXPECT_EQ(run.exit_status, 2);
    ASSERT_TRUE(run.report->object_error);
    EXPECT_EQ(run.report->object_error->code, FailureCode::MissingKernelBtf);
    EXPECT_NE(run.report->object_error->message.find("armv7l"), std::string::npos)
        << run.report->object_error->message;
}

// `bpfleet run` (local transport, the real agent over the protocol): the BTF
// is picked from a BTFHub-style tree by this host's facts, sent once, named
// in report.json; a tree without this kernel is MISSING_KERNEL_BTF for every
// object, and nothing is loaded.
TEST_F(ExternalBtf, RunPicksShipsAndNamesTheBtf) {
    utsname u{};
    uname(&u);
    std::ifstream os("/etc/os-release");
    std::string line;
    std::string id;
    std::string version;
    while (std::getline(os, line)) {
        auto value = [&](const char* key) {
            std::string v = line.substr(std::string(key).size());
            v.erase(std::remove(v.begin(), v.end(), '"'), v.end());
            return v;
        };
        if (line.starts_with("ID=")) {
            id = value("ID=");
        } else if (line.starts_with("VERSION_ID=")) {
            version = value("VERSION_ID=");
        }
    }
    BPFLEET_REQUIRE(!id.empty() && !version.empty(), "/etc/os-release has no ID and VERSION_ID");
    const fs::path tree = m_dir / "btfhub";
    const fs::path file = tree / id / version / u.machine / (std::string(u.release) + ".btf");
    fs::create_directories(file.parent_path());
    fs::copy_file(m_copy, file);

    const fs::path out = m_dir / "out";
    auto run = run_process({BPFLEET_CONTROLLER_PATH, "run", "-a", test_object("core_task"), "-o",
                            out.string(), "--agent", BPFLEET_AGENT_PATH, "--ignore-kernel-btf",
                            "--load-only", "--btf", tree.string()});
    ASSERT_TRUE(run) << run.error().describe();
    EXPECT_EQ(run->status.code(), 0) << run->out << run->err;
    std::ifstream in(out / "report.json");
    const Json report = Json::parse(in);
    const Json& check = report["hosts"][0]["checks"][0]["report"];
    EXPECT_EQ(check["btf"]["source"], "external") << check.dump(1).substr(0, 2000);
    EXPECT_EQ(check["btf"]["path"], file.string());
    EXPECT_EQ(check["btf"]["sha256"], Sha256::hex_of(read_bytes(m_copy)));
    EXPECT_EQ(check["programs"][0]["load"]["verdict"], "pass");

    fs::remove(file);
    fs::create_directories(tree / id / version / u.machine);
    const fs::path out2 = m_dir / "out2";
    auto none = run_process({BPFLEET_CONTROLLER_PATH, "run", "-a", test_object("core_task"), "-o",
                             out2.string(), "--agent", BPFLEET_AGENT_PATH, "--ignore-kernel-btf",
                             "--load-only", "--btf", tree.string()});
    ASSERT_TRUE(none) << none.error().describe();
    EXPECT_NE(none->status.code(), 0) << none->out << none->err;
    std::ifstream in2(out2 / "report.json");
    const Json report2 = Json::parse(in2);
    const Json& refused = report2["hosts"][0]["checks"][0]["report"];
    EXPECT_EQ(refused["error"]["code"], "MISSING_KERNEL_BTF") << refused.dump(1).substr(0, 2000);
    EXPECT_NE(refused["error"]["message"].get<std::string>().find("no BTF for kernel"),
              std::string::npos);
    EXPECT_EQ(refused["programs"].size(), 0u) << "nothing was loaded";
}

} // namespace
} // namespace bpfleet::test
