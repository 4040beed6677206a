// The classifier on verifier logs recorded from real kernels
// (tests/fixtures/verifier-logs/<kernel>/) and on hand-made inputs for the
// rules this machine cannot produce (no lockdown, BTF always present, ...).

#include "bpf/classifier.hpp"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <set>

namespace bpfleet::bpf {
namespace {

namespace fs = std::filesystem;

// What each recorded case must classify as, on every kernel it was recorded on.
const std::map<std::string, FailureCode> kExpected = {
    {"verifier_reject/xdp_unchecked_read", FailureCode::VerifierReject},
    {"mixed/bad_unchecked", FailureCode::VerifierReject},
    {"long_log_reject/xdp_long_then_bad", FailureCode::VerifierReject},
    {"helper_not_allowed/socket_redirects", FailureCode::HelperUnavailable},
    {"core_missing_field/core_read_missing", FailureCode::CoreRelocationFailed},
    {"zero_sized_ringbuf/xdp_emits", FailureCode::LoaderContract},
    {"fentry/fentry_unlinkat", FailureCode::AttachTypeUnsupported},
};

struct Recorded {
    fs::path path;
    std::string kernel;
    std::string key;
    LoadFailure failure;
    std::string log;
};

std::vector<Recorded> load_fixtures() {
    std::vector<Recorded> out;
    const fs::path root = fs::path(BPFLEET_FIXTURES_DIR) / "verifier-logs";
    for (const auto& kernel_dir : fs::directory_iterator(root)) {
        if (!kernel_dir.is_directory()) {
            continue;
        }
        for (const auto& file : fs::directory_iterator(kernel_dir)) {
            if (file.path().extension() != ".json") {
                continue;
            }
            std::ifstream in(file.path());
            auto j = Json::parse(in);
            Recorded r;
            r.path = file.path();
            r.kernel = j.at("kernel").get<std::string>();
            r.key = j.at("object").get<std::string>() + "/" + j.at("program").get<std::string>();
            r.log = j.at("log").get<std::string>();
            r.failure.errnum = j.at("errno").get<int>();
            r.failure.program = j.at("program").get<std::string>();
            r.failure.prog_type = j.at("prog_type").get<std::string>();
            r.failure.libbpf_messages = j.at("libbpf_messages").get<std::vector<std::string>>();
            if (r.key == "zero_sized_ringbuf/xdp_emits") {
                r.failure.zero_sized_maps = {"events"};
            }
            out.push_back(std::move(r));
        }
    }
    return out;
}

TEST(ClassifierFixtures, RecordedLogsFromSeveralKernels) {
    auto fixtures = load_fixtures();
    ASSERT_FALSE(fixtures.empty());
    std::set<std::string> kernels;
    std::map<std::string, std::set<std::string>> covered;
    for (auto& r : fixtures) {
        SCOPED_TRACE(r.path.string());
        auto expected = kExpected.find(r.key);
        ASSERT_NE(expected, kExpected.end())
            << "fixture " << r.key << " has no expected code in kExpected";
        r.failure.verifier_log = r.log;
        HostContext host; // recorded as root, no lockdown, with kernel BTF
        auto c = classify_load_failure(r.failure, host);
        EXPECT_EQ(to_string(c.code), to_string(expected->second))
            << r.kernel << ": evidence '" << c.evidence << "'";
        EXPECT_FALSE(c.evidence.empty());
        EXPECT_FALSE(c.hint.empty());
        if (!r.log.empty() && c.code != FailureCode::AttachTypeUnsupported) {
            bool in_log = r.log.find(c.evidence) != std::string::npos;
            bool in_msgs =
                std::find(r.failure.libbpf_messages.begin(), r.failure.libbpf_messages.end(),
                          c.evidence) != r.failure.libbpf_messages.end();
            EXPECT_TRUE(in_log || in_msgs) << "evidence must be quoted, not invented";
        }
        kernels.insert(r.kernel);
        covered[r.key].insert(r.kernel);
    }
    EXPECT_GE(kernels.size(), 2u) << "fixtures must come from more than one kernel";
    for (const auto& [key, code] : kExpected) {
        EXPECT_TRUE(covered.count(key)) << "no recorded log for " << key;
    }
}

LoadFailure failure(int errnum, std::string type, std::string_view log,
                    std::vector<std::string> msgs = {}) {
    LoadFailure f;
    f.errnum = errnum;
    f.program = "p";
    f.prog_type = std::move(type);
    f.verifier_log = log;
    f.libbpf_messages = std::move(msgs);
    return f;
}

TEST(Classifier, VerifierRejectQuotesTheLastReasonLine) {
    constexpr std::string_view log = "0: R1=ctx() R10=fp0\n"
                                     "0: (61) r2 = *(u32 *)(r1 +0)\n"
                                     "1: (71) r0 = *(u8 *)(r2 +20)\n"
                                     "R2 invalid mem access 'scalar'\n"
                                     "processed 2 insns (limit 1000000) max_states_per_insn 0\n"
                                     "verification time 12 usec\n"
                                     "stack depth 0\n";
    auto c = classify_load_failure(failure(EACCES, "xdp", log), HostContext{});
    EXPECT_EQ(c.code, FailureCode::VerifierReject);
    EXPECT_EQ(c.evidence, "R2 invalid mem access 'scalar'");
}

TEST(Classifier, UnknownHelperOnOlderKernel) {
    // How 5.4-era kernels refuse a helper they do not have.
    constexpr std::string_view log = "0: (85) call unknown#131\nunknown func unknown#131\n";
    auto c = classify_load_failure(failure(EINVAL, "xdp", log), HostContext{});
    EXPECT_EQ(c.code, FailureCode::HelperUnavailable);
    EXPECT_EQ(c.evidence, "unknown func unknown#131");
}

TEST(Classifier, ComplexityLimitIsResourceLimit) {
    constexpr std::string_view log =
        "BPF program is too large. Processed 1000001 insn\n"
        "processed 1000001 insns (limit 1000000) max_states_per_insn 4 total_states 10000\n";
    auto c = classify_load_failure(failure(E2BIG, "kprobe", log), HostContext{});
    EXPECT_EQ(c.code, FailureCode::ResourceLimit);
    EXPECT_EQ(c.evidence, "BPF program is too large. Processed 1000001 insn");
}

TEST(Classifier, MissingKernelBtf) {
    HostContext host;
    host.kernel_btf = false;
    auto c = classify_load_failure(
        failure(ESRCH, "tracing", "",
                {"failed to find valid kernel BTF", "Error loading vmlinux BTF: -3"}),
        host);
    EXPECT_EQ(c.code, FailureCode::MissingKernelBtf);
}

// A trampoline program on a host without kernel BTF: the reason names the
// kernel's own BTF ids, which no external BTF replaces; a program that only
// needs CO-RE keeps the generic message.
// kprobe_multi on 5.10 (lab): the link kind is missing, not the function.
TEST(Classifier, KprobeMultiOnAKernelWithoutItIsAttachTypeUnsupported) {
    AttachFailure f;
    f.errnum = EINVAL;
    f.strategy = "kprobe_multi";
    f.message = "bpf_program__attach_kprobe_multi_opts(vfs_read)";
    auto c = classify_attach_failure(f, HostContext{});
    EXPECT_EQ(c.code, FailureCode::AttachTypeUnsupported);
    EXPECT_NE(c.message.find("5.18"), std::string::npos) << c.message;
    f.errnum = ESRCH;
    EXPECT_EQ(classify_attach_failure(f, HostContext{}).code, FailureCode::AttachTargetMissing);
    f.strategy = "kprobe";
    f.errnum = EINVAL;
    EXPECT_EQ(classify_attach_failure(f, HostContext{}).code, FailureCode::AttachTargetMissing);
}

TEST(Classifier, MissingKernelBtfForBtfIdProgramsSaysWhy) {
    HostContext host;
    host.kernel_btf = false;
    host.external_btf = true;
    const std::vector<std::string> msgs = {"libbpf: Error loading vmlinux BTF: -2"};
    for (const char* type : {"tracing", "lsm", "struct_ops"}) {
        auto c = classify_load_failure(failure(ENOENT, type, "", msgs), host);
        EXPECT_EQ(c.code, FailureCode::MissingKernelBtf) << type;
        EXPECT_NE(c.message.find("kernel's own BTF"), std::string::npos) << c.message;
        EXPECT_NE(c.hint.find("CONFIG_DEBUG_INFO_BTF"), std::string::npos) << c.hint;
    }
    auto c = classify_load_failure(failure(ENOENT, "raw_tracepoint", "", msgs), host);
    EXPECT_EQ(c.code, FailureCode::MissingKernelBtf);
    EXPECT_EQ(c.message.find("kernel's own BTF"), std::string::npos) << c.message;
}

// With external BTF in use, a relocation that fails is the program's (or the
// file's) mismatch, not a lack of BTF.
TEST(Classifier, CoreFailureAgainstExternalBtfIsCoreRelocationFailed) {
    constexpr std::string_view log = "4: <invalid CO-RE relocation>\n"
                                     "failed to resolve CO-RE relocation <byte_off> [2] "
                                     "struct task_struct.x (0:0 @ offset 0)\n";
    HostContext host;
    host.kernel_btf = false;
    host.external_btf = true;
    auto c = classify_load_failure(failure(EINVAL, "raw_tracepoint", log), host);
    EXPECT_EQ(c.code, FailureCode::CoreRelocationFailed);
}

TEST(Classifier, CoreFailureWithoutKernelBtfIsMissingBtf) {
    constexpr std::string_view log = "4: <invalid CO-RE relocation>\n"
                                     "failed to resolve CO-RE relocation <byte_off> [2] "
                                     "struct task_struct.pid (0:0 @ offset 0)\n";
    HostContext host;
    host.kernel_btf = false;
    auto c = classify_load_failure(failure(EINVAL, "raw_tracepoint", log), host);
    EXPECT_EQ(c.code, FailureCode::MissingKernelBtf);
    host.kernel_btf = true;
    c = classify_load_failure(failure(EINVAL, "raw_tracepoint", log), host);
    EXPECT_EQ(c.code, FailureCode::CoreRelocationFailed);
    EXPECT_NE(c.evidence.find("failed to resolve CO-RE relocation"), std::string::npos);
}

TEST(Classifier, UnprivilegedLoadIsPermissionDenied) {
    HostContext host;
    host.privileged = false;
    auto c = classify_load_failure(failure(EPERM, "xdp", ""), host);
    EXPECT_EQ(c.code, FailureCode::PermissionDenied);
}

TEST(Classifier, LockdownIsPermissionDenied) {
    HostContext host;
    host.lockdown = "confidentiality";
    auto c = classify_load_failure(failure(EPERM, "kprobe", ""), host);
    EXPECT_EQ(c.code, FailureCode::PermissionDenied);
    EXPECT_NE(c.message.find("lockdown"), std::string::npos);
}

TEST(Classifier, TrampolineRefusedWhilePrivilegedIsAttachTypeUnsupported) {
    auto c = classify_load_failure(failure(EPERM, "tracing", ""), HostContext{});
    EXPECT_EQ(c.code, FailureCode::AttachTypeUnsupported);
    c = classify_load_failure(failure(EPERM, "lsm", ""), HostContext{});
    EXPECT_EQ(c.code, FailureCode::AttachTypeUnsupported);
}

TEST(Classifier, UnknownProgramTypeNeedsTheProbe) {
    HostContext host;
    host.prog_type_supported = false;
    auto c = classify_load_failure(failure(EINVAL, "netfilter", ""), host);
    EXPECT_EQ(c.code, FailureCode::ProgTypeUnsupported);
    host.prog_type_supported = true;
    c = classify_load_failure(failure(EINVAL, "netfilter", ""), host);
    EXPECT_EQ(c.code, FailureCode::Unknown) << "no evidence, no guess";
}

TEST(Classifier, MissingSectionTypeIsLoaderContract) {
    auto c = classify_load_failure(
        failure(EINVAL, "unspec", "",
                {"prog 'p': missing BPF prog type, check ELF section name 'weird/x'"}),
        HostContext{});
    EXPECT_EQ(c.code, FailureCode::LoaderContract);
}

TEST(Classifier, MapCreationFailures) {
    std::vector<std::string> msgs = {"map 'rb': failed to create: Invalid argument(-22)"};
    auto c = classify_load_failure(failure(EINVAL, "xdp", "", msgs), HostContext{});
    EXPECT_EQ(c.code, FailureCode::MapTypeUnsupported);
    auto f = failure(EINVAL, "xdp", "", msgs);
    f.zero_sized_maps = {"rb"};
    EXPECT_EQ(classify_load_failure(f, HostContext{}).code, FailureCode::LoaderContract);
    c = classify_load_failure(
        failure(E2BIG, "xdp", "", {"map 'big': failed to create: Argument list too long(-7)"}),
        HostContext{});
    EXPECT_EQ(c.code, FailureCode::ResourceLimit);
}

TEST(Classifier, MissingAttachTarget) {
    auto c = classify_load_failure(
        failure(ESRCH, "tracing", "",
                {"prog 'p': failed to find kernel BTF type ID of 'no_such_function': -3"}),
        HostContext{});
    EXPECT_EQ(c.code, FailureCode::AttachTargetMissing);
}

TEST(AttachClassifier, MissingTcModulesAreAttachTypeUnsupported) {
    AttachFailure f;
    f.errnum = ENOENT;
    f.strategy = "tc";
    f.message = "cannot create a clsact qdisc on lo";
    f.libbpf_messages = {"Kernel error message: Specified qdisc kind is unknown"};
    auto c = classify_attach_failure(f, HostContext{});
    EXPECT_EQ(c.code, FailureCode::AttachTypeUnsupported);
    EXPECT_EQ(c.evidence, "Kernel error message: Specified qdisc kind is unknown");
}

TEST(AttachClassifier, NoKprobePmuIsAttachTypeUnsupported) {
    AttachFailure f;
    f.errnum = ENOENT;
    f.strategy = "kprobe";
    f.message = "cannot attach";
    HostContext host;
    host.kprobe_pmu = false;
    EXPECT_EQ(classify_attach_failure(f, host).code, FailureCode::AttachTypeUnsupported);
    host.kprobe_pmu = true;
    EXPECT_EQ(classify_attach_failure(f, host).code, FailureCode::AttachTargetMissing);
}

TEST(Classifier, NothingToGoOnIsUnknown) {
    auto c = classify_load_failure(failure(EIO, "xdp", ""), HostContext{});
    EXPECT_EQ(c.code, FailureCode::Unknown);
    EXPECT_FALSE(c.evidence.empty());
}

TEST(VerifierStats, ParsesProcessedAndTime) {
    auto s = parse_verifier_stats("verification time 27 usec\nstack depth 0\n"
                                  "processed 81905 insns (limit 1000000) max_states_per_insn 4\n");
    ASSERT_TRUE(s.insns_processed);
    EXPECT_EQ(*s.insns_processed, 81905u);
    ASSERT_TRUE(s.verification_time_us);
    EXPECT_EQ(*s.verification_time_us, 27u);
    auto none = parse_verifier_stats("R1 invalid mem access\n");
    EXPECT_FALSE(none.insns_processed);
    EXPECT_FALSE(none.verification_time_us);
}

TEST(VerifierErrorLine, SkipsStatisticsAndBlankLines) {
    EXPECT_EQ(verifier_error_line("a\nreason here\n\nprocessed 3 insns (limit 1)\n"),
              "reason here");
    EXPECT_EQ(verifier_error_line(""), "");
}

} // namespace
} // namespace bpfleet::bpf
