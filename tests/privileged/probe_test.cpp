// `bpfleet-agent probe` through the real agent: the document's shape, its
// facts against what this test reads itself, its BPF answers against loads
// this test makes itself (the same raw errno, whatever the kernel), and its
// round trip through HostFacts.

#include "model/check_result.hpp"
#include "model/host_facts.hpp"
#include "privileged/agent_runner.hpp"
#include "support/require.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <fstream>
#include <gtest/gtest.h>
#include <set>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace bpfleet::test {
namespace {

const Json& probe_document() {
    static const Json doc = [] {
        auto run = run_agent({"probe"});
        EXPECT_EQ(run.exit_status, 0) << run.err;
        Json parsed = Json::parse(run.out, nullptr, false);
        EXPECT_FALSE(parsed.is_discarded()) << run.out.substr(0, 2000);
        return parsed.is_discarded() ? Json::object() : parsed;
    }();
    return doc;
}

std::string read_text(const char* path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool exists(const char* path) {
    struct stat st {};
    return stat(path, &st) == 0;
}

void expect_probe_result(const Json& r, const std::string& what) {
    ASSERT_TRUE(r.is_object()) << what;
    static const std::set<std::string> kStatuses = {"supported", "unsupported", "error", "skipped"};
    ASSERT_TRUE(r.contains("status")) << what;
    EXPECT_TRUE(kStatuses.count(r.at("status").get<std::string>())) << what << ": " << r.dump();
    if (r.at("status") != "supported") {
        ASSERT_TRUE(r.contains("errno")) << what << ": " << r.dump();
        EXPECT_TRUE(r.at("errno").is_number_integer()) << what;
        EXPECT_TRUE(r.contains("errno_name")) << what;
    }
}

TEST(Probe, DocumentShapeAndHostFacts) {
    const Json& doc = probe_document();
    ASSERT_EQ(doc.value("schema", ""), "bpfleet.probe/v1");
    for (const char* key :
         {"agent", "arch", "kernel", "os", "board", "cpus", "memory", "privileges", "security",
          "sysctl", "btf", "pmu", "filesystems", "cgroup", "features", "unreadable"}) {
        EXPECT_TRUE(doc.contains(key)) << key;
    }
    utsname u{};
    ASSERT_EQ(uname(&u), 0);
    EXPECT_EQ(doc["arch"], u.machine);
    EXPECT_EQ(doc["kernel"]["release"], u.release);
    EXPECT_EQ(doc["kernel"]["version"], u.version);
    EXPECT_EQ(doc["cpus"]["online"].get<long>(), sysconf(_SC_NPROCESSORS_ONLN));
    EXPECT_GT(doc["memory"]["total_bytes"].get<long long>(), 0);
    EXPECT_EQ(doc["btf"]["vmlinux"].get<bool>(), exists("/sys/kernel/btf/vmlinux"));

    std::string os = read_text("/etc/os-release");
    if (os.empty()) {
        os = read_text("/usr/lib/os-release");
    }
    if (!os.empty()) {
        ASSERT_TRUE(doc["os"]["id"].is_string());
        EXPECT_NE(os.find("ID=" + doc["os"]["id"].get<std::string>()), std::string::npos);
    }

    // Every fact read from a file is either there or listed as unreadable.
    EXPECT_EQ(doc["security"]["lockdown"].is_null(),
              doc["unreadable"].contains("/sys/kernel/security/lockdown"));
    EXPECT_EQ(doc["board"]["model"].is_null(),
              doc["unreadable"].contains("/proc/device-tree/model"));

    std::string layout = doc["cgroup"]["layout"];
    EXPECT_TRUE(layout == "v2" || layout == "hybrid" || layout == "v1" || layout == "none");
    EXPECT_EQ(doc["cgroup"]["unified"].is_string(), layout == "v2" || layout == "hybrid");

    int unpriv = std::stoi(read_text("/proc/sys/kernel/unprivileged_bpf_disabled"));
    EXPECT_EQ(doc["sysctl"]["unprivileged_bpf_disabled"].get<int>(), unpriv);
    EXPECT_EQ(doc["privileges"]["euid"].get<long>(), static_cast<long>(geteuid()));
}

// What the controller does with a host's document: read it as HostFacts and
// write it into report.json and facts.json. Nothing may change on the way.
TEST(Probe, TheDocumentReadsBackAsHostFactsUnchanged) {
    const Json& doc = probe_document();
    auto facts = parse_host_facts(doc);
    ASSERT_TRUE(facts) << facts.error().message;
    ASSERT_TRUE(facts->features);
    EXPECT_FALSE(facts->features->prog_types.empty());
    EXPECT_EQ(Json(*facts).dump(), doc.dump());
}

TEST(Probe, EveryLibbpfTypeHasAnAnswer) {
    const Json& f = probe_document()["features"];
    for (int t = 1; libbpf_bpf_prog_type_str(static_cast<bpf_prog_type>(t)); ++t) {
        std::string name = libbpf_bpf_prog_type_str(static_cast<bpf_prog_type>(t));
        ASSERT_TRUE(f["prog_types"].contains(name)) << name;
        expect_probe_result(f["prog_types"][name], "prog_types." + name);
    }
    for (int t = 1; libbpf_bpf_map_type_str(static_cast<bpf_map_type>(t)); ++t) {
        std::string name = libbpf_bpf_map_type_str(static_cast<bpf_map_type>(t));
        ASSERT_TRUE(f["map_types"].contains(name)) << name;
        expect_probe_result(f["map_types"][name], "map_types." + name);
    }
    for (const char* helper :
         {"bpf_ringbuf_output", "bpf_probe_read_kernel", "bpf_get_current_task_btf", "bpf_loop"}) {
        ASSERT_TRUE(f["helpers"].contains(helper)) << helper;
        for (const auto& [type, r] : f["helpers"][helper].items()) {
            expect_probe_result(r, std::string(helper) + "." + type);
        }
    }
    for (const char* mech :
         {"fentry", "fexit", "fmod_ret", "tp_btf", "lsm", "kprobe", "kprobe_multi"}) {
        ASSERT_TRUE(f["attach"].contains(mech)) << mech;
        expect_probe_result(f["attach"][mech], std::string("attach.") + mech);
    }
    expect_probe_result(f["bpf_enable_stats"], "bpf_enable_stats");
}

TEST(Probe, PrivilegedAnswersMatchOwnLoads) {
    BPFLEET_REQUIRE(is_root(), "BPF probes need root");
    BPFLEET_REQUIRE(bpf_available(), "the kernel refuses BPF programs here");
    const Json& doc = probe_document();
    ASSERT_TRUE(doc["privileges"]["privileged"].get<bool>());
    const Json& f = doc["features"];
    EXPECT_EQ(f["prog_types"]["socket_filter"]["status"], "supported");
    EXPECT_EQ(f["map_types"]["hash"]["status"], "supported");
    EXPECT_EQ(f["map_types"]["array"]["status"], "supported");

    // A helper no socket filter may call: the verifier says so on any kernel
    // that knows it, and the probe must not report libbpf's "assume supported".
    const Json& func_ip = f["helpers"]["bpf_get_func_ip"]["socket_filter"];
    EXPECT_NE(func_ip["status"], "supported") << func_ip.dump();

    // fentry: the same load the agent makes, made here; the raw errno agrees.
    int btf_id = libbpf_find_vmlinux_btf_id("bpf_fentry_test1", BPF_TRACE_FENTRY);
    const Json& fentry = f["attach"]["fentry"];
    if (btf_id < 0) {
        EXPECT_EQ(fentry["status"], "error") << fentry.dump();
        return;
    }
    EXPECT_EQ(fentry["btf_id"].get<int>(), btf_id);
    const bpf_insn insns[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    bpf_prog_load_opts opts{};
    opts.sz = sizeof(opts);
    opts.expected_attach_type = BPF_TRACE_FENTRY;
    opts.attach_btf_id = static_cast<__u32>(btf_id);
    int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "probe_test", "GPL", insns, 2, &opts);
    int load_errno = fd < 0 ? errno : 0;
    if (fd < 0) {
        EXPECT_EQ(fentry["stage"], "load") << fentry.dump();
        EXPECT_EQ(fentry["errno"].get<int>(), load_errno) << fentry.dump();
        return;
    }
    int link = bpf_raw_tracepoint_open(nullptr, fd);
    int attach_errno = link < 0 ? errno : 0;
    if (link >= 0) {
        close(link);
        EXPECT_EQ(fentry["status"], "supported") << fentry.dump();
    } else {
        EXPECT_EQ(fentry["stage"], "attach") << fentry.dump();
        EXPECT_EQ(fentry["errno"].get<int>(), attach_errno) << fentry.dump();
    }
    close(fd);
}

} // namespace
} // namespace bpfleet::test
