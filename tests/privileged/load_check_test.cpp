// Real loads on this machine's kernel through the real (static) agent binary.

#include "privileged/agent_runner.hpp"
#include "support/require.hpp"

#include <cerrno>
#include <cstring>
#include <elf.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace bpfleet::test {
namespace {

namespace fs = std::filesystem;

class LoadCheck : public ::testing::Test {
protected:
    void SetUp() override {
        BPFLEET_REQUIRE(is_root(), "loading BPF programs needs root");
        BPFLEET_REQUIRE(bpf_available(), "the kernel refuses BPF programs here");
    }

    static AgentRun check(const std::string& object, std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"check", "--object", object};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_agent(args);
    }
};

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string bytes(fs::file_size(path), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return bytes;
}

TEST_F(LoadCheck, EveryProgramOfAGoodObjectPasses) {
    auto run = check(test_object("pass"));
    ASSERT_TRUE(run.report) << run.parse_error << "\n" << run.err;
    EXPECT_EQ(run.exit_status, 0) << run.err;
    ASSERT_EQ(run.report->programs.size(), 3u);
    for (const auto& p : run.report->programs) {
        EXPECT_EQ(p.load.verdict, Verdict::Pass) << p.name << ": " << p.load.evidence;
        EXPECT_FALSE(p.load.log) << "a passing program needs no verifier log";
        ASSERT_TRUE(p.load.insns_processed) << p.name;
        EXPECT_GT(*p.load.insns_processed, 0u);
        EXPECT_TRUE(p.load.verification_time_us) << p.name;
    }
    EXPECT_EQ(run.report->object.license, "GPL");
    EXPECT_TRUE(run.report->object.has_btf);
    EXPECT_TRUE(run.report->object.has_btf_ext);
    EXPECT_EQ(run.report->object.sha256.size(), 64u);
    const auto* xdp = find_program(*run.report, "xdp_count");
    ASSERT_NE(xdp, nullptr);
    EXPECT_EQ(xdp->type, "xdp");
}

TEST_F(LoadCheck, ObjectFactsListProgramsAndMaps) {
    auto run = check(test_object("pass"));
    ASSERT_TRUE(run.report) << run.parse_error;
    const auto& obj = run.report->object;
    ASSERT_EQ(obj.programs.size(), 3u);
    EXPECT_EQ(obj.programs[0].section, "xdp");
    EXPECT_EQ(obj.programs[0].expected_attach_type, "xdp");
    EXPECT_EQ(obj.programs[1].type, "socket_filter");
    EXPECT_EQ(obj.programs[1].expected_attach_type, "");
    EXPECT_EQ(obj.programs[2].section, "tracepoint/syscalls/sys_enter_getpid");
    auto counter = std::find_if(obj.maps.begin(), obj.maps.end(),
                                [](const MapFacts& m) { return m.name == "counter"; });
    ASSERT_NE(counter, obj.maps.end());
    EXPECT_EQ(counter->type, "array");
    EXPECT_EQ(counter->key_size, 4u);
    EXPECT_EQ(counter->value_size, 8u);
    EXPECT_EQ(counter->max_entries, 1u);
}

TEST_F(LoadCheck, VerifierRejectCarriesLogAndEvidence) {
    auto run = check(test_object("verifier_reject"));
    ASSERT_TRUE(run.report) << run.parse_error;
    EXPECT_EQ(run.exit_status, 1);
    ASSERT_EQ(run.report->programs.size(), 1u);
    const auto& load = run.report->programs[0].load;
    EXPECT_EQ(load.verdict, Verdict::Fail);
    EXPECT_EQ(load.code, FailureCode::VerifierReject);
    EXPECT_EQ(load.errnum, EACCES);
    ASSERT_TRUE(load.log);
    EXPECT_NE(load.log->text.find(load.evidence), std::string::npos)
        << "the evidence line comes from the log";
    EXPECT_NE(load.evidence.find("outside of the packet"), std::string::npos) << load.evidence;
    EXPECT_FALSE(load.log->truncated);
    EXPECT_FALSE(load.hint.empty());
}

TEST_F(LoadCheck, OneBadProgramDoesNotHideTheGoodOne) {
    auto run = check(test_object("mixed"));
    ASSERT_TRUE(run.report) << run.parse_error;
    EXPECT_EQ(run.exit_status, 1);
    const auto* good = find_program(*run.report, "good_pass");
    const auto* bad = find_program(*run.report, "bad_unchecked");
    ASSERT_TRUE(good && bad);
    EXPECT_EQ(good->load.verdict, Verdict::Pass);
    EXPECT_FALSE(good->load.log);
    EXPECT_EQ(bad->load.verdict, Verdict::Fail);
    EXPECT_EQ(bad->load.code, FailureCode::VerifierReject);
    ASSERT_TRUE(bad->load.log);
    EXPECT_NE(bad->load.log->text.find(bad->load.evidence), std::string::npos);
    for (const auto& m : bad->load.libbpf_messages) {
        EXPECT_EQ(m.find("good_pass"), std::string::npos) << "only the bad program's messages";
    }
    auto s = run.report->summary();
    EXPECT_EQ(s.pass, 1);
    EXPECT_EQ(s.fail, 1);
}

TEST_F(LoadCheck, HelperNotAllowedForProgramType) {
    auto run = check(test_object("helper_not_allowed"));
    ASSERT_TRUE(run.report) << run.parse_error;
    const auto& load = run.report->programs.at(0).load;
    EXPECT_EQ(load.verdict, Verdict::Fail);
    EXPECT_EQ(load.code, FailureCode::HelperUnavailable) << load.evidence;
    EXPECT_NE(load.evidence.find("bpf_redirect"), std::string::npos) << load.evidence;
}

TEST_F(LoadCheck, CoreRelocationOnMissingField) {
    BPFLEET_REQUIRE(fs::exists("/sys/kernel/btf/vmlinux"), "the kernel has no BTF");
    auto run = check(test_object("core_missing_field"));
    ASSERT_TRUE(run.report) << run.parse_error;
    const auto& load = run.report->programs.at(0).load;
    EXPECT_EQ(load.verdict, Verdict::Fail);
    EXPECT_EQ(load.code, FailureCode::CoreRelocationFailed) << load.evidence;
    ASSERT_TRUE(load.log);
    EXPECT_NE(load.log->text.find("CO-RE relocation"), std::string::npos);
}

TEST_F(LoadCheck, ZeroSizedMapsTakeRodataSizeOrDefault) {
    auto run = check(test_object("zero_sized_maps"));
    ASSERT_TRUE(run.report) << run.parse_error;
    EXPECT_EQ(run.exit_status, 0) << run.out;
    EXPECT_EQ(run.report->programs.at(0).load.verdict, Verdict::Pass);
    const Fixup* sized = nullptr;
    const Fixup* unsized = nullptr;
    for (const auto& f : run.report->fixups) {
        if (f.kind == "map_max_entries" && f.target == "sized") {
            sized = &f;
        } else if (f.kind == "map_max_entries" && f.target == "unsized") {
            unsized = &f;
        }
    }
    ASSERT_TRUE(sized && unsized);
    EXPECT_EQ(sized->to, "256");
    EXPECT_EQ(sized->source, "rodata");
    EXPECT_EQ(unsized->to, "4096");
    EXPECT_EQ(unsized->source, "auto");
}

TEST_F(LoadCheck, ZeroSizedRingBufferIsALoaderContract) {
    auto run = check(test_object("zero_sized_ringbuf"));
    ASSERT_TRUE(run.report) << run.parse_error;
    for (const auto& f : run.report->fixups) {
        EXPECT_NE(f.target, "events") << "a ring buffer must never get a default size";
    }
    const auto& load = run.report->programs.at(0).load;
    EXPECT_EQ(load.verdict, Verdict::Fail);
    EXPECT_EQ(load.code, FailureCode::LoaderContract) << load.evidence;
    EXPECT_NE(load.evidence.find("events"), std::string::npos);
}

TEST_F(LoadCheck, GadgetSectionNamesGetTheirTypes) {
    auto run = check(test_object("gadget_sections"));
    ASSERT_TRUE(run.report) << run.parse_error;
    EXPECT_EQ(run.exit_status, 0) << run.out;
    std::map<std::string, std::string> types;
    for (const auto& f : run.report->fixups) {
        if (f.kind == "program_type") {
            EXPECT_EQ(f.from, "unspec");
            EXPECT_EQ(f.source, "auto");
            types[f.target] = f.to;
        }
    }
    EXPECT_EQ(types["ig_socket"], "socket_filter");
    EXPECT_EQ(types["ig_classifier"], "sched_cls");
    EXPECT_EQ(types["ig_perf_event"], "perf_event");
    for (const auto& p : run.report->programs) {
        EXPECT_EQ(p.load.verdict, Verdict::Pass) << p.name << ": " << p.load.evidence;
    }
}

// This machine's kernel has no direct-call ftrace: fentry is refused with
// EPERM although the agent is root. Other kernels load the same object.
TEST_F(LoadCheck, FentryWithoutTrampolinesIsAttachTypeUnsupported) {
    auto run = check(test_object("fentry"));
    ASSERT_TRUE(run.report) << run.parse_error;
    const auto& load = run.report->programs.at(0).load;
    EXPECT_EQ(load.verdict, Verdict::Fail);
    EXPECT_EQ(load.code, FailureCode::AttachTypeUnsupported) << load.evidence;
    EXPECT_EQ(load.errnum, EPERM);
}

TEST_F(LoadCheck, LegacyMapsObjectIsInvalid) {
    auto run = check(test_object("legacy_maps"));
    ASSERT_TRUE(run.report) << run.parse_error;
    EXPECT_EQ(run.exit_status, 2);
    ASSERT_TRUE(run.report->object_error);
    EXPECT_EQ(run.report->object_error->code, FailureCode::ObjectInvalid);
    EXPECT_NE(run.report->object_error->message.find("legacy"), std::string::npos);
    EXPECT_NE(run.err.find("legacy"), std::string::npos) << "the reason also goes to stderr";
}

TEST_F(LoadCheck, ReadsTheObjectFromStdin) {
    auto bytes = read_file(test_object("pass"));
    auto run = run_agent({"check", "--object", "-", "--name", "piped.bpf.o"}, bytes);
    ASSERT_TRUE(run.report) << run.parse_error << run.err;
    EXPECT_EQ(run.exit_status, 0);
    EXPECT_EQ(run.report->object.name, "piped.bpf.o");
    EXPECT_EQ(run.report->object.size, bytes.size());
    EXPECT_EQ(run.report->programs.size(), 3u);
}

TEST_F(LoadCheck, LogCapKeepsTheTail) {
    auto run = check(test_object("long_log_reject"), {"--log-cap", "4096"});
    ASSERT_TRUE(run.report) << run.parse_error;
    const auto& load = run.report->programs.at(0).load;
    EXPECT_EQ(load.code, FailureCode::VerifierReject) << load.evidence;
    ASSERT_TRUE(load.log);
    EXPECT_TRUE(load.log->truncated);
    EXPECT_LE(load.log->text.size(), 4096u);
    EXPECT_GT(load.log->size, 4096u);
    EXPECT_NE(load.log->text.find(load.evidence), std::string::npos)
        << "the kept tail holds the line that says why";

    auto full = check(test_object("long_log_reject"));
    ASSERT_TRUE(full.report);
    ASSERT_TRUE(full.report->programs.at(0).load.log);
    EXPECT_FALSE(full.report->programs.at(0).load.log->truncated);
    EXPECT_EQ(full.report->programs.at(0).load.evidence, load.evidence);
}

class FixupsFile : public LoadCheck {
protected:
    fs::path write(const std::string& text) {
        fs::path p =
            fs::temp_directory_path() / ("bpfleet-fixups-" + std::to_string(getpid()) + ".toml");
        std::ofstream(p) << text;
        m_files.push_back(p);
        return p;
    }
    void TearDown() override {
        for (const auto& f : m_files) {
            fs::remove(f);
        }
    }
    std::vector<fs::path> m_files;
};

TEST_F(FixupsFile, RulesWinOverAutomaticFixups) {
    auto rules = write("[maps.sized]\nmax_entries = 16\n\n[programs.xdp_uses_zero_maps]\n"
                       "enabled = true\n");
    auto run = check(test_object("zero_sized_maps"), {"--fixups", rules.string()});
    ASSERT_TRUE(run.report) << run.parse_error << run.err;
    bool found = false;
    for (const auto& f : run.report->fixups) {
        if (f.target == "sized") {
            found = true;
            EXPECT_EQ(f.to, "16");
            EXPECT_EQ(f.source, "fixups_file");
        }
    }
    EXPECT_TRUE(found);
}

TEST_F(FixupsFile, DisabledProgramIsSkippedAndTheRestLoads) {
    auto rules = write("[programs.bad_unchecked]\nenabled = false\n");
    auto run = check(test_object("mixed"), {"--fixups", rules.string()});
    ASSERT_TRUE(run.report) << run.parse_error << run.err;
    EXPECT_EQ(run.exit_status, 0);
    const auto* bad = find_program(*run.report, "bad_unchecked");
    ASSERT_NE(bad, nullptr);
    EXPECT_EQ(bad->load.verdict, Verdict::Skip);
    EXPECT_EQ(find_program(*run.report, "good_pass")->load.verdict, Verdict::Pass);
}

TEST_F(FixupsFile, ProgramTypeFromRules) {
    auto rules = write("[programs.ig_perf_event]\ntype = \"socket_filter\"\n");
    auto run = check(test_object("gadget_sections"), {"--fixups", rules.string()});
    ASSERT_TRUE(run.report) << run.parse_error << run.err;
    const auto* p = find_program(*run.report, "ig_perf_event");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->type, "socket_filter");
    for (const auto& f : run.report->fixups) {
        if (f.target == "ig_perf_event") {
            EXPECT_EQ(f.source, "fixups_file");
        }
    }
}

TEST_F(FixupsFile, BadFileNamesLineAndColumn) {
    auto rules = write("[maps.sized]\nmax_entries = \"many\"\n");
    auto run = check(test_object("zero_sized_maps"), {"--fixups", rules.string()});
    EXPECT_EQ(run.exit_status, 2);
    EXPECT_NE(run.err.find(rules.string() + ":2:"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("max_entries"), std::string::npos) << run.err;
}

// Real third-party objects: every XDP program libxdp ships loads here, and
// maps they pin by name are never pinned by a check.
TEST_F(LoadCheck, LibxdpProgramsLoad) {
    const fs::path dir = "/usr/lib/x86_64-linux-gnu/bpf";
    BPFLEET_REQUIRE(fs::exists(dir / "xdpfilt_alw_all.o"),
                    "libxdp1's objects are not installed (apt-get install libxdp1)");
    int xdp_programs = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".o") {
            continue;
        }
        const bool pinned_before = fs::exists("/sys/fs/bpf/xdp_stats_map");
        auto run = check(entry.path().string());
        ASSERT_TRUE(run.report) << entry.path() << ": " << run.parse_error;
        for (const auto& p : run.report->programs) {
            if (p.type == "xdp") {
                ++xdp_programs;
                EXPECT_EQ(p.load.verdict, Verdict::Pass)
                    << entry.path().filename() << " " << p.name << ": " << p.load.evidence;
            }
        }
        EXPECT_EQ(fs::exists("/sys/fs/bpf/xdp_stats_map"), pinned_before)
            << entry.path() << " left a pin behind";
    }
    EXPECT_GE(xdp_programs, 14);
}

TEST_F(LoadCheck, XdpfiltAllowAllPasses) {
    const std::string path = "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o";
    BPFLEET_REQUIRE(fs::exists(path), "libxdp1 is not installed");
    auto run = check(path);
    ASSERT_TRUE(run.report) << run.parse_error;
    EXPECT_EQ(run.exit_status, 0);
    ASSERT_EQ(run.report->programs.size(), 1u);
    EXPECT_EQ(run.report->programs[0].load.verdict, Verdict::Pass);
    bool pin_fixup = false;
    for (const auto& f : run.report->fixups) {
        pin_fixup |= f.kind == "map_pinning";
    }
    EXPECT_TRUE(pin_fixup) << "pinned-by-name maps are reported as unpinned";
}

// Bad input never crashes nor hangs the agent: exit 2 and OBJECT_INVALID.
class BadInput : public ::testing::Test {
protected:
    fs::path m_dir = fs::temp_directory_path() / ("bpfleet-bad-" + std::to_string(getpid()));
    void SetUp() override { fs::create_directories(m_dir); }
    void TearDown() override { fs::remove_all(m_dir); }

    AgentRun check_bytes(const std::string& name, const std::string& bytes) {
        auto p = m_dir / name;
        std::ofstream(p, std::ios::binary) << bytes;
        return run_agent({"check", "--object", p.string()});
    }

    static void expect_invalid(const AgentRun& run, const std::string& needle) {
        EXPECT_EQ(run.exit_status, 2) << run.out << run.err;
        ASSERT_TRUE(run.report) << run.parse_error << "\n" << run.out;
        ASSERT_TRUE(run.report->object_error);
        EXPECT_EQ(run.report->object_error->code, FailureCode::ObjectInvalid);
        EXPECT_NE(run.report->object_error->message.find(needle), std::string::npos)
            << run.report->object_error->message;
    }
};

TEST_F(BadInput, EmptyFile) {
    expect_invalid(check_bytes("empty.o", ""), "empty");
}

TEST_F(BadInput, RandomBytes) {
    std::string bytes(4096, '\0');
    std::uint32_t x = 12345;
    for (auto& c : bytes) {
        x = x * 1103515245 + 12345;
        c = static_cast<char>(x >> 16);
    }
    expect_invalid(check_bytes("random.o", bytes), "not an ELF");
}

TEST_F(BadInput, TruncatedObject) {
    auto bytes = read_file(test_object("pass"));
    expect_invalid(check_bytes("truncated.o", bytes.substr(0, bytes.size() / 2)), "truncated");
}

TEST_F(BadInput, NonBpfElf) {
    auto run = run_agent({"check", "--object", "/bin/true"});
    expect_invalid(run, "not BPF");
}

TEST_F(BadInput, MissingFile) {
    auto run = run_agent({"check", "--object", (m_dir / "nope.o").string()});
    expect_invalid(run, "No such file");
}

TEST_F(BadInput, HundredMegabyteFileIsRefusedBySize) {
    auto p = m_dir / "huge.o";
    {
        std::ofstream out(p, std::ios::binary);
        out.seekp(100 << 20);
        out.put('\0');
    }
    auto run = run_agent({"check", "--object", p.string()});
    expect_invalid(run, "limit");
}

TEST_F(BadInput, OversizedStdinIsRefused) {
    std::string bytes(5 << 20, 'x');
    auto run = run_agent({"check", "--object", "-", "--max-object-size", "1048576"}, bytes);
    expect_invalid(run, "limit");
}

TEST_F(BadInput, UsageErrorsExitTwo) {
    auto run = run_agent({"check"});
    EXPECT_EQ(run.exit_status, 2);
    EXPECT_NE(run.err.find("--object"), std::string::npos);
    run = run_agent({"check", "--object", "x", "--format", "yaml"});
    EXPECT_EQ(run.exit_status, 2);
    EXPECT_NE(run.err.find("yaml"), std::string::npos);
    run = run_agent({"frobnicate"});
    EXPECT_EQ(run.exit_status, 2);
}

TEST(AgentBinary, IsStaticAndReportsVersion) {
    auto run = run_agent({"version"});
    EXPECT_EQ(run.exit_status, 0);
    EXPECT_NE(run.out.find("bpfleet-agent "), std::string::npos);
    EXPECT_NE(run.out.find("libbpf 1."), std::string::npos);
    EXPECT_NE(run.out.find("build-id "), std::string::npos);
    EXPECT_EQ(run.out.find("build-id unknown"), std::string::npos);
    BPFLEET_REQUIRE(BPFLEET_AGENT_IS_STATIC, "the agent is linked dynamically in this build");
    // A static executable has no PT_INTERP: it needs no dynamic loader.
    auto bytes = read_file(BPFLEET_AGENT_PATH);
    ASSERT_GE(bytes.size(), sizeof(Elf64_Ehdr));
    Elf64_Ehdr ehdr;
    std::memcpy(&ehdr, bytes.data(), sizeof ehdr);
    for (int i = 0; i < ehdr.e_phnum; ++i) {
        Elf64_Phdr ph;
        ASSERT_LE(ehdr.e_phoff + (i + 1) * sizeof ph, bytes.size());
        std::memcpy(&ph, bytes.data() + ehdr.e_phoff + i * sizeof ph, sizeof ph);
        EXPECT_NE(ph.p_type, static_cast<Elf64_Word>(PT_INTERP)) << "the agent is not static";
        EXPECT_NE(ph.p_type, static_cast<Elf64_Word>(PT_DYNAMIC)) << "the agent is not static";
    }
}

} // namespace
} // namespace bpfleet::test
