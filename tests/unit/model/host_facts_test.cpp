// HostFacts, the probe document as a C++ type: every member written and read
// back unchanged (member order included), the example in docs/agent-probe.md
// read as it stands, members a newer agent adds kept in place, and a
// document from a bad host refused with the member named.
#include "model/host_facts.hpp"
#include "model/run_report.hpp"
#include "support/lazy_json.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <string>

namespace bpfleet {
namespace {

FeatureAnswer answer(FeatureStatus status) {
    FeatureAnswer a;
    a.status = status;
    if (status != FeatureStatus::Supported) {
        a.errnum = 1;
        a.errno_name = "EPERM";
    }
    return a;
}

// A document with every member set, nulls and variants included.
HostFacts full_facts() {
    HostFacts f;
    f.agent = ProbeAgentInfo{"0.1.0", "1.1", "aarch64", "63bc10ae", Json::object()};
    f.arch = "aarch64";
    f.kernel.release = "6.1.0-rpi7-rpi-v8";
    f.kernel.version = "#1 SMP PREEMPT Debian 1:6.1.63-1+rpt1";
    f.hostname = "pi4";
    f.os.id = "debian";
    f.os.version_id = "12";
    f.os.pretty_name = "Debian GNU/Linux 12 (bookworm)";
    f.os.source = "/etc/os-release";
    f.board.model = "Raspberry Pi 4 Model B Rev 1.4";
    f.board.compatible = std::vector<std::string>{"raspberrypi,4-model-b", "brcm,bcm2711"};
    f.cpus = CpuFacts{4, 4, Json::object()};
    f.memory.total_bytes = 8ll << 30;
    f.privileges.euid = 0;
    f.privileges.cap_eff = "000001ffffffffff";
    f.privileges.cap_sys_admin = true;
    f.privileges.cap_bpf = true;
    f.privileges.cap_perfmon = false;
    f.privileges.privileged = true;
    f.security.lockdown = "none";
    f.security.lsm = std::vector<std::string>{"capability", "bpf"};
    f.sysctl.bpf_jit_enable = std::int64_t{1};
    f.sysctl.bpf_jit_harden = std::string("weird");
    f.sysctl.unprivileged_bpf_disabled = std::int64_t{2};
    f.btf.vmlinux = true;
    f.btf.vmlinux_bytes = 5520272;
    f.btf.modules = 3;
    f.pmu.uprobe = 8;
    f.pmu.kprobe_events = true;
    f.filesystems.tracefs = FilesystemFacts{true, {"/sys/kernel/tracing"}, Json::object()};
    f.filesystems.bpffs = FilesystemFacts{true, {"/sys/fs/bpf", "/run/bpf"}, Json::object()};
    f.cgroup.layout = "hybrid";
    f.cgroup.unified = "/sys/fs/cgroup/unified";
    f.cgroup.v1.push_back(CgroupV1Hierarchy{"/sys/fs/cgroup/cpu", "rw,cpu", Json::object()});
    FeatureFingerprint ff;
    ff.libbpf_version = "1.1";
    ff.bpf_enable_stats = answer(FeatureStatus::Supported);
    ff.prog_types = {{"socket_filter", answer(FeatureStatus::Supported)},
                     {"tracing", answer(FeatureStatus::Unsupported)}};
    ff.map_types = {{"hash", answer(FeatureStatus::Supported)}};
    FeatureAnswer helper = answer(FeatureStatus::Unsupported);
    helper.log = "program of this type cannot use helper bpf_get_func_ip#173";
    helper.libbpf = FeatureStatus::Supported;
    FeatureAnswer skipped = answer(FeatureStatus::Skipped);
    skipped.reason = "program type xdp is not supported";
    ff.helpers = {{"bpf_get_func_ip", {{"socket_filter", helper}, {"xdp", skipped}}}};
    AttachProbe fentry;
    fentry.target = "bpf_fentry_test1";
    fentry.btf_id = std::optional<std::int64_t>(63947);
    fentry.load = answer(FeatureStatus::Unsupported);
    fentry.status = FeatureStatus::Unsupported;
    fentry.errnum = 1;
    fentry.errno_name = "EPERM";
    fentry.stage = "load";
    AttachProbe lsm;
    lsm.target = "file_open";
    lsm.btf_id = std::optional<std::int64_t>(); // null: not in BTF
    lsm.status = FeatureStatus::Error;
    lsm.errnum = 2;
    lsm.errno_name = "ENOENT";
    AttachProbe kprobe; // no btf_id member at all
    kprobe.target = "do_sys_openat2";
    kprobe.load = answer(FeatureStatus::Supported);
    kprobe.attach = answer(FeatureStatus::Supported);
    ff.attach = {{"fentry", fentry}, {"lsm", lsm}, {"kprobe", kprobe}};
    f.features = ff;
    f.unreadable = {{"/sys/class/dmi/id/sys_vendor", "ENOENT"},
                    {"/sys/kernel/security/lockdown", "EACCES"}};
    return f;
}

Json doc_example() {
    std::ifstream in(std::string(BPFLEET_SOURCE_DIR) + "/docs/agent-probe.md");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    const auto start = text.find("```json\n");
    const auto end = text.find("\n```", start + 1);
    EXPECT_NE(start, std::string::npos);
    return Json::parse(text.substr(start + 8, end - start - 8));
}

TEST(HostFacts, EveryMemberRoundTripsInItsOrder) {
    const Json written = full_facts();
    auto read = parse_host_facts(written);
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(Json(*read).dump(), written.dump());
    EXPECT_EQ(read->sysctl.bpf_jit_harden, SysctlValue(std::string("weird")));
    EXPECT_TRUE(std::holds_alternative<std::monostate>(read->sysctl.kptr_restrict));
    const AttachProbe* lsm = read->features ? find_named(read->features->attach, "lsm") : nullptr;
    ASSERT_NE(lsm, nullptr);
    ASSERT_TRUE(lsm->btf_id.has_value()) << "a null btf_id is not an absent one";
    EXPECT_FALSE(lsm->btf_id->has_value());
    const AttachProbe* kprobe = find_named(read->features->attach, "kprobe");
    ASSERT_NE(kprobe, nullptr);
    EXPECT_FALSE(kprobe->btf_id.has_value());
    EXPECT_FALSE(written["features"]["attach"]["kprobe"].contains("btf_id"));
}

TEST(HostFacts, TheDefaultDocumentHasEveryMemberAndReadsBack) {
    const Json written = HostFacts{};
    EXPECT_EQ(written["schema"], "bpfleet.probe/v1");
    EXPECT_TRUE(written["features"].is_null());
    EXPECT_TRUE(written["kernel"]["release"].is_null());
    auto read = parse_host_facts(written);
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(Json(*read), written);
}

TEST(HostFacts, TheDocumentedExampleReadsAndWritesBackUnchanged) {
    const Json example = doc_example();
    auto read = parse_host_facts(example);
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(read->btf.vmlinux, true);
    EXPECT_EQ(read->cgroup.layout, "hybrid");
    EXPECT_EQ(Json(*read).dump(), example.dump());
}

TEST(HostFacts, MembersANewerAgentAddsAreKeptWhereTheyWere) {
    Json doc = full_facts();
    doc["kernel"]["config_hash"] = "abc";
    doc["firmware"] = {{"uefi", true}};
    doc["features"]["attach"]["fentry"]["multi"] = {{"status", "supported"}};
    doc["features"]["prog_types"]["xdp"] = {{"status", "supported"}, {"jited", true}};
    auto read = parse_host_facts(doc);
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(Json(*read).dump(), doc.dump());
}

struct BadFacts {
    const char* name;
    const char* pointer;
    test::LazyJson value; // discarded: remove the member
    std::string expected;
};

class BadFactsDocument : public ::testing::TestWithParam<BadFacts> {};

TEST_P(BadFactsDocument, IsRefusedNamingTheMember) {
    const BadFacts& b = GetParam();
    Json doc = full_facts();
    const Json::json_pointer at(b.pointer);
    Json value = b.value.get();
    if (value.is_discarded()) {
        doc[at.parent_pointer()].erase(at.back());
    } else {
        doc[at] = std::move(value);
    }
    auto read = parse_host_facts(doc);
    ASSERT_FALSE(read) << doc.dump().substr(0, 300);
    EXPECT_EQ(read.error().code, "protocol");
    EXPECT_NE(read.error().message.find(b.expected), std::string::npos) << read.error().message;
}

const Json kRemove = Json::value_t::discarded;

INSTANTIATE_TEST_SUITE_P(
    Members, BadFactsDocument,
    ::testing::Values(
        BadFacts{"NoSchema", "/schema", kRemove, "facts.schema: missing"},
        BadFacts{"OtherSchema", "/schema", "bpfleet.check/v1",
                 "facts.schema: is 'bpfleet.check/v1', expected 'bpfleet.probe/v1'"},
        BadFacts{"NoKernel", "/kernel", kRemove, "facts.kernel: missing"},
        BadFacts{"ReleaseNumber", "/kernel/release", 42,
                 "facts.kernel.release: expected a string or null, got an integer"},
        BadFacts{"AgentArchNull", "/agent/arch", nullptr,
                 "facts.agent.arch: expected a string, got null"},
        BadFacts{"CompatibleItem", "/board/compatible/1", 3,
                 "facts.board.compatible[1]: expected a string, got an integer"},
        BadFacts{"DmiMissing", "/board/dmi", kRemove, "facts.board.dmi: missing"},
        BadFacts{"CpusFraction", "/cpus/online", 2.5,
                 "facts.cpus.online: expected an integer, got a fractional number"},
        BadFacts{"EuidTooBig", "/privileges/euid", 18446744073709551615ull,
                 "facts.privileges.euid: 18446744073709551615 is out of range"},
        BadFacts{"CapString", "/privileges/cap_bpf", "yes",
                 "facts.privileges.cap_bpf: expected true, false or null, got a string"},
        BadFacts{"SysctlArray", "/sysctl/kptr_restrict", Json::array(),
                 "facts.sysctl.kptr_restrict: expected an integer, a string or null, got an array"},
        BadFacts{"SysctlMissing", "/sysctl/bpf_jit_enable", kRemove,
                 "facts.sysctl.bpf_jit_enable: missing"},
        BadFacts{"MountsNotAList", "/filesystems/tracefs/mounts", "/sys",
                 "facts.filesystems.tracefs.mounts: expected an array of strings, got a string"},
        BadFacts{"V1NotObjects", "/cgroup/v1/0", "cpu",
                 "facts.cgroup.v1[0]: expected an object, got a string"},
        BadFacts{"V1Path", "/cgroup/v1/0/path", kRemove, "facts.cgroup.v1[0].path: missing"},
        BadFacts{"FeaturesNotAnObject", "/features", 1,
                 "facts.features: expected an object or null, got an integer"},
        BadFacts{"UnknownStatus", "/features/prog_types/tracing/status", "maybe",
                 "facts.features.prog_types.tracing.status: unknown status 'maybe'"},
        BadFacts{"AnswerNotAnObject", "/features/map_types/hash", "supported",
                 "facts.features.map_types.hash: expected an object, got a string"},
        BadFacts{"HelperLibbpf", "/features/helpers/bpf_get_func_ip/socket_filter/libbpf", true,
                 "facts.features.helpers.bpf_get_func_ip.socket_filter.libbpf: expected a "
                 "string, got a boolean"},
        BadFacts{"AttachBtfId", "/features/attach/fentry/btf_id", "63947",
                 "facts.features.attach.fentry.btf_id: expected an integer or null"},
        BadFacts{"UnreadableErrno", "/unreadable/~1sys~1class~1dmi~1id~1sys_vendor", 2,
                 "facts.unreadable./sys/class/dmi/id/sys_vendor: expected a string, got an "
                 "integer"},
        BadFacts{"LongHostname", "/hostname", std::string(4097, 'h'),
                 "facts.hostname: a string of 4097 bytes, over the 4096-byte limit"},
        BadFacts{"LongOsName", "/os/pretty_name", test::LazyJson::made_by([] {
                     return Json(std::string(kMaxFieldString + 1, 'o'));
                 }),
                 "facts.os.pretty_name: a string of 262145 bytes"},
        BadFacts{"ManyLsms", "/security/lsm", test::LazyJson::made_by([] {
                     return Json(std::vector<std::string>(kMaxFieldItems + 1, "bpf"));
                 }),
                 "facts.security.lsm: 65537 items, over the limit of 65536"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(HostFacts, ADocumentNestedTooDeeplyIsRefusedBeforeItIsRead) {
    Json doc = full_facts();
    Json deep = 1;
    for (int i = 0; i < kMaxFactsDepth; ++i) {
        deep = Json::array({std::move(deep)});
    }
    doc["extra"] = std::move(deep);
    auto read = parse_host_facts(doc, "probe.facts");
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().message,
              "probe.facts: nested deeper than " + std::to_string(kMaxFactsDepth) + " levels");
}

TEST(HostFacts, FeatureStatusNames) {
    for (auto s : {FeatureStatus::Supported, FeatureStatus::Unsupported, FeatureStatus::Error,
                   FeatureStatus::Skipped}) {
        EXPECT_EQ(feature_status_from_string(to_string(s)), s);
    }
    EXPECT_FALSE(feature_status_from_string("Supported"));
}

// In a run report, a host that never answered a probe has facts {} (as
// before the facts were typed), and reads back without facts.
TEST(HostFacts, AHostWithoutFactsIsWrittenAsAnEmptyObject) {
    HostResult h;
    h.name = "a";
    const Json j = h;
    EXPECT_EQ(j["facts"], Json::object());
    EXPECT_FALSE(j.get<HostResult>().facts);

    h.facts = full_facts();
    const Json with = h;
    EXPECT_EQ(with["facts"], Json(full_facts()));
    auto back = with.get<HostResult>();
    ASSERT_TRUE(back.facts);
    EXPECT_EQ(back.facts->hostname, "pi4");

    Json bad = with;
    bad["facts"]["cpus"]["online"] = "4";
    auto journal_line = parse_host_result(bad.dump());
    ASSERT_FALSE(journal_line);
    EXPECT_NE(journal_line.error().message.find("facts.cpus.online"), std::string::npos)
        << journal_line.error().message;
}

} // namespace
} // namespace bpfleet
