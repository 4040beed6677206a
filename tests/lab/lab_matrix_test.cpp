// "Kernel version is not feature support", shown: one multi-arch gadget-style
// image (lab_features, lab_btf and lab_maps, compiled from tests/bpf/ for
// x86, arm64 and arm) served by a local docker-registry, checked with
// `bpfleet run` on this machine and on every lab VM (Debian 5.10, 6.1 and
// 6.12 on amd64, 5.10 and 6.1 on arm64, 6.1 on armhf without BTF), and
// `bpfleet probe` of the VMs.
//
// What is asserted was found by running these objects on these kernels; the
// kernels' configs (vms/NAME/config) and the probe's fingerprints say why a
// cell is what it is, and the last test holds the fingerprints against the
// configs. Nothing is derived from `uname -r`. Where today's code is wrong
// (docs/lab.md lists those cells), only the verdict is asserted.
//
// The suite boots the lab and runs the fleet once (SetUpTestSuite); the
// tests read the reports. Registered as one ctest entry, `lab.matrix`.
#include "lab_fixture.hpp"
#include "oci/image_builder.hpp"
#include "oci/test_servers.hpp"
#include "support/require.hpp"

#include <gtest/gtest.h>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>
#include <unistd.h>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace bpfleet;
using namespace bpfleet::test;

namespace {

constexpr const char* kImage = "lab/probe:v1";
const std::vector<std::string> kObjects = {"lab_features", "lab_btf", "lab_maps"};

// The lab's VMs and the OCI platform each must have run.
struct LabHost {
    std::string name;
    std::string oci_arch; // "amd64", "arm64", "arm"
    std::string target;   // the object file's suffix: x86, arm64, arm
};
const std::vector<LabHost> kLabHosts = {
    {"lab-5.10-amd64", "amd64", "x86"},  {"lab-6.1-amd64", "amd64", "x86"},
    {"lab-6.12-amd64", "amd64", "x86"},  {"lab-5.10-arm64", "arm64", "arm64"},
    {"lab-6.1-arm64", "arm64", "arm64"}, {"lab-6.1-armhf", "arm", "arm"},
};

fs::path object_path(const std::string& object, const std::string& target) {
    return fs::path(BPFLEET_LAB_BPF_DIR) /
           (object + (target == "x86" ? "" : "." + target) + ".bpf.o");
}

// Everything the suite made, for the tests to read.
struct Suite {
    std::string error; // set up failed: every test fails with this
    std::string skip;  // a prerequisite is missing
    std::unique_ptr<TempDir> dir;
    std::unique_ptr<RegistryServer> registry;
    fs::path lab;
    json run;   // bpfleet.run/v1 of the fleet run
    json probe; // bpfleet.run/v1 of `bpfleet probe` (facts with features)
    std::string index_digest;
    std::map<std::string, std::string> manifest_digest; // by OCI arch
    std::map<std::string, std::string> object_sha256;   // by "object.target"
};
std::unique_ptr<Suite> g_suite;

std::string read_file(const fs::path& p) {
    return slurp(p);
}

// The gadget image: one manifest per platform, each with a gadget config and
// the three objects of that architecture as eBPF layers (titled).
std::string build_image(Suite& s, const fs::path& layout) {
    LayoutBuilder b(layout);
    json entries = json::array();
    for (auto [oci_arch, variant, target] :
         {std::tuple{"amd64", "", "x86"}, {"arm64", "", "arm64"}, {"arm", "v7", "arm"}}) {
        auto config = b.add_blob(to_bytes("name: lab_probe\ndescription: the lab's probe\n"),
                                 "application/vnd.gadget.config.v1+yaml");
        json layers = json::array();
        for (const auto& object : kObjects) {
            Bytes bytes = read_bytes(object_path(object, target));
            if (bytes.empty()) {
                return "missing " + object_path(object, target).string();
            }
            s.object_sha256[object + "." + target] = sha256_hex(bytes);
            json d =
                b.add_blob(bytes, "application/vnd.gadget.ebpf.program.v1+binary").descriptor();
            d["annotations"] = {{"org.opencontainers.image.title", object + ".bpf.o"}};
            layers.push_back(d);
        }
        json manifest = {{"schemaVersion", 2},
                         {"artifactType", "application/vnd.gadget.v1+binary"},
                         {"config", config.descriptor()},
                         {"layers", layers}};
        auto m = b.add_json(manifest, "application/vnd.oci.image.manifest.v1+json");
        s.manifest_digest[oci_arch] = m.digest;
        json d = m.descriptor();
        d["platform"] = {{"os", "linux"}, {"architecture", oci_arch}};
        if (*variant) {
            d["platform"]["variant"] = variant;
        }
        entries.push_back(d);
    }
    json index = {{"schemaVersion", 2},
                  {"mediaType", "application/vnd.oci.image.index.v1+json"},
                  {"manifests", entries}};
    auto ref = b.add_json(index, "application/vnd.oci.image.index.v1+json");
    s.index_digest = ref.digest;
    b.add_ref(ref, "v1");
    b.write_index_json();
    return {};
}

void set_up(Suite& s) {
    if (std::string missing = missing_lab_tools(); !missing.empty()) {
        s.skip = "lab tools missing: " + missing;
        return;
    }
    if (::geteuid() != 0) {
        s.skip = "the lab tier runs as root (the agent loads BPF on this machine too)";
        return;
    }
    if (!have_program(kDockerRegistry) || !have_program(kSkopeo)) {
        s.skip = "docker-registry and skopeo are needed (scripts/install-deps.sh)";
        return;
    }
    s.dir = std::make_unique<TempDir>();
    s.lab = s.dir->path() / "lab";
    auto up = run_bpfleet({"lab", "up", "--dir", s.lab.string(), "--cache", lab_cache().string()},
                          {}, std::chrono::seconds(600));
    std::cerr << up.err << up.out;
    if (up.exit_code != 0) {
        s.error = "bpfleet lab up failed: " + up.describe();
        return;
    }
    if (std::string err = build_image(s, s.dir->path() / "layout"); !err.empty()) {
        s.error = err;
        return;
    }
    s.registry = std::make_unique<RegistryServer>(s.dir->path());
    if (!s.registry->ok()) {
        s.error = s.registry->error();
        return;
    }
    if (std::string err = s.registry->push(s.dir->path() / "layout", "v1", kImage); !err.empty()) {
        s.error = "skopeo: " + err;
        return;
    }
    // This machine beside the VMs: the lab's inventory plus a local host.
    const fs::path fleet = s.lab / "fleet.toml";
    write_text(fleet, read_file(s.lab / "inventory.toml") +
                          "\n[hosts.this-machine]\ntransport = \"local\"\n");
    const fs::path out = s.dir->path() / "run";
    auto run = run_bpfleet({"run", "-i", fleet.string(), "-a",
                            "docker://" + s.registry->host() + "/" + kImage, "-o", out.string(),
                            "--cache-dir", (s.dir->path() / "oci-cache").string()},
                           {}, std::chrono::seconds(600));
    std::cerr << run.out;
    if (run.exit_code != 1) { // some programs fail: that is the point
        s.error = "bpfleet run: expected exit 1 (some programs fail), got " + run.describe();
        return;
    }
    s.run = json::parse(read_file(out / "report.json"), nullptr, false);
    auto probe = run_bpfleet({"probe", "-i", (s.lab / "inventory.toml").string(), "-o",
                              (s.dir->path() / "probe").string()},
                             {}, std::chrono::seconds(600));
    if (probe.exit_code != 0) {
        s.error = "bpfleet probe failed: " + probe.describe();
        return;
    }
    s.probe = json::parse(read_file(s.dir->path() / "probe" / "report.json"), nullptr, false);
    if (s.run.is_discarded() || s.probe.is_discarded()) {
        s.error = "a report is not JSON";
    }
}

const json* find_host(const json& report, const std::string& name) {
    for (const auto& h : report["hosts"]) {
        if (h["name"] == name) {
            return &h;
        }
    }
    return nullptr;
}

// One program's three stages on one host, from the run's report.
struct Cell {
    const json* load = nullptr;
    const json* attach = nullptr;
    const json* fire = nullptr;
    std::string object_sha256;
};

std::optional<Cell> cell(const std::string& host, const std::string& program) {
    const json* h = find_host(g_suite->run, host);
    if (h == nullptr) {
        return std::nullopt;
    }
    for (const auto& check : (*h)["checks"]) {
        for (const auto& p : check["report"]["programs"]) {
            if (p["name"] == program) {
                return Cell{&p["load"], &p["attach"], &p["fire"],
                            check["object_sha256"].get<std::string>()};
            }
        }
    }
    return std::nullopt;
}

std::string show(const json& stage) {
    return stage.dump().substr(0, 600);
}

// What a stage must say: its verdict, and for a failure the code, and a
// piece of the evidence (empty: not asserted).
void expect_stage(const std::string& where, const json& stage, const std::string& verdict,
                  const std::string& code = "", const std::string& evidence = "") {
    EXPECT_EQ(stage["verdict"], verdict) << where << ": " << show(stage);
    if (!code.empty()) {
        EXPECT_EQ(stage["code"], code) << where << ": " << show(stage);
    }
    if (!evidence.empty()) {
        EXPECT_NE(stage["evidence"].get<std::string>().find(evidence), std::string::npos)
            << where << ": evidence should contain '" << evidence << "': " << show(stage);
    }
}

void expect_fired(const std::string& host, const std::string& program) {
    auto c = cell(host, program);
    ASSERT_TRUE(c) << host << " has no result for " << program;
    const std::string where = host + " " + program;
    expect_stage(where + " load", *c->load, "pass");
    expect_stage(where + " attach", *c->attach, "pass");
    expect_stage(where + " fire", *c->fire, "pass");
}

void expect_load_fail(const std::string& host, const std::string& program, const std::string& code,
                      const std::string& evidence) {
    auto c = cell(host, program);
    ASSERT_TRUE(c) << host << " has no result for " << program;
    expect_stage(host + " " + program + " load", *c->load, "fail", code, evidence);
    expect_stage(host + " " + program + " attach", *c->attach, "skip");
}

void expect_attach_fail(const std::string& host, const std::string& program,
                        const std::string& code, const std::string& evidence, int errnum = 0) {
    auto c = cell(host, program);
    ASSERT_TRUE(c) << host << " has no result for " << program;
    expect_stage(host + " " + program + " load", *c->load, "pass");
    expect_stage(host + " " + program + " attach", *c->attach, "fail", code, evidence);
    if (errnum != 0) {
        EXPECT_EQ((*c->attach)["errno"], errnum) << host << " " << program;
    }
}

class LabMatrix : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        g_suite = std::make_unique<Suite>();
        set_up(*g_suite);
    }
    static void TearDownTestSuite() {
        if (g_suite->dir) {
            run_bpfleet({"lab", "down", "--dir", g_suite->lab.string()});
        }
        g_suite.reset();
    }
    void SetUp() override {
        BPFLEET_REQUIRE(g_suite->skip.empty(), g_suite->skip);
        ASSERT_TRUE(g_suite->error.empty()) << g_suite->error;
    }
};

} // namespace

// Each VM ran its own architecture's objects, from its platform's manifest of
// the one image; this machine ran the amd64 ones.
TEST_F(LabMatrix, EveryHostRanItsOwnArchitecturesObjects) {
    std::vector<LabHost> hosts = kLabHosts;
    hosts.push_back({"this-machine", "amd64", "x86"});
    for (const auto& host : hosts) {
        const json* h = find_host(g_suite->run, host.name);
        ASSERT_NE(h, nullptr) << host.name << " is not in the report";
        EXPECT_EQ((*h)["status"], "ok") << host.name << ": " << (*h)["error"];
        ASSERT_EQ((*h)["checks"].size(), kObjects.size()) << host.name;
        for (const auto& check : (*h)["checks"]) {
            const std::string object = check["object"].get<std::string>();
            const std::string stem = object.substr(0, object.find('.'));
            EXPECT_EQ(check["arch"], host.oci_arch) << host.name << " " << object;
            EXPECT_EQ(check["image_digest"], g_suite->index_digest) << host.name;
            EXPECT_EQ(check["manifest_digest"], g_suite->manifest_digest[host.oci_arch])
                << host.name << " " << object;
            EXPECT_EQ(check["object_sha256"], g_suite->object_sha256[stem + "." + host.target])
                << host.name << " ran another architecture's " << object;
        }
    }
    // The three architectures' objects really differ: the digests prove it.
    EXPECT_NE(g_suite->object_sha256["lab_features.x86"],
              g_suite->object_sha256["lab_features.arm"]);
    EXPECT_NE(g_suite->object_sha256["lab_features.arm64"],
              g_suite->object_sha256["lab_features.arm"]);
}

// A helper: bpf_ktime_get_coarse_ns (5.11) is not in 5.10, whatever the
// architecture; the armhf kernel has it.
TEST_F(LabMatrix, AHelperThe510KernelsLack) {
    for (const char* host : {"lab-5.10-amd64", "lab-5.10-arm64"}) {
        expect_load_fail(host, "helper_coarse_ns", "HELPER_UNAVAILABLE",
                         "invalid func unknown#160");
    }
    for (const char* host : {"lab-6.1-amd64", "lab-6.12-amd64", "lab-6.1-arm64", "lab-6.1-armhf"}) {
        expect_fired(host, "helper_coarse_ns");
    }
}

// A map type: bloom filters (5.16); the map is created with the object, so
// its program fails at load with the map named.
TEST_F(LabMatrix, AMapTypeThe510KernelsLack) {
    for (const char* host : {"lab-5.10-amd64", "lab-5.10-arm64"}) {
        expect_load_fail(host, "bloom_check", "MAP_TYPE_UNSUPPORTED",
                         "map 'seen': failed to create: Invalid argument");
    }
    for (const char* host : {"lab-6.1-amd64", "lab-6.12-amd64", "lab-6.1-arm64", "lab-6.1-armhf"}) {
        expect_fired(host, "bloom_check");
    }
}

// A program type: BPF_PROG_TYPE_SYSCALL (5.14), never attached where it loads.
TEST_F(LabMatrix, AProgramTypeThe510KernelsLack) {
    for (const char* host : {"lab-5.10-amd64", "lab-5.10-arm64"}) {
        expect_load_fail(host, "syscall_prog", "PROG_TYPE_UNSUPPORTED",
                         "bpf(BPF_PROG_LOAD) failed: EINVAL");
    }
    for (const char* host : {"lab-6.1-amd64", "lab-6.12-amd64", "lab-6.1-arm64", "lab-6.1-armhf"}) {
        auto c = cell(host, "syscall_prog");
        ASSERT_TRUE(c) << host;
        expect_stage(std::string(host) + " syscall_prog load", *c->load, "pass");
        expect_stage(std::string(host) + " syscall_prog attach", *c->attach, "skip");
    }
}

// Attach types. Multi-kprobes need CONFIG_FPROBE, which only the 6.12
// kernel has (the 6.1 kernels load the program and refuse the link). BPF
// trampolines need direct-call ftrace, which the amd64 kernels have and the
// arm64 ones (5.10 and 6.1) do not: same program, same kernel version, other
// architecture. A plain kprobe works everywhere in the lab.
TEST_F(LabMatrix, AttachTypesFollowTheKernelsConfigs) {
    expect_fired("lab-6.12-amd64", "kprobe_multi_vfs_read");
    for (const char* host : {"lab-6.1-amd64", "lab-6.1-arm64", "lab-6.1-armhf"}) {
        expect_attach_fail(host, "kprobe_multi_vfs_read", "ATTACH_TYPE_UNSUPPORTED",
                           "failed to attach: Operation not supported", 95);
    }
    // 5.10 has no multi-kprobe link at all (EINVAL): the verdict only, see
    // docs/lab.md for the code given today.
    for (const char* host : {"lab-5.10-amd64", "lab-5.10-arm64"}) {
        auto c = cell(host, "kprobe_multi_vfs_read");
        ASSERT_TRUE(c) << host;
        expect_stage(std::string(host) + " kprobe_multi load", *c->load, "pass");
        expect_stage(std::string(host) + " kprobe_multi attach", *c->attach, "fail");
    }
    for (const char* host : {"lab-5.10-amd64", "lab-6.1-amd64", "lab-6.12-amd64"}) {
        expect_fired(host, "fentry_vfs_read");
    }
    for (const char* host : {"lab-5.10-arm64", "lab-6.1-arm64"}) {
        // errno 524 (ENOTSUPP, kernel-internal); the evidence's wording is
        // libbpf's, see docs/lab.md.
        expect_attach_fail(host, "fentry_vfs_read", "ATTACH_TYPE_UNSUPPORTED", "failed to attach",
                           524);
    }
    for (const auto& host : kLabHosts) {
        expect_fired(host.name, "kprobe_vfs_read");
    }
}

// BTF: the CO-RE read of task_struct.__state finds no such field in 5.10's
// BTF (it was `state` then), and the armhf kernel has no BTF at all, which
// fails the whole object (libbpf needs vmlinux BTF before any program).
TEST_F(LabMatrix, BtfAndCoReDiffer) {
    for (const char* host : {"lab-5.10-amd64", "lab-5.10-arm64"}) {
        expect_load_fail(host, "core_task_state", "CORE_RELOCATION_FAILED",
                         "struct task_struct.__state");
    }
    for (const char* program : {"core_task_state", "fentry_vfs_read"}) {
        expect_load_fail("lab-6.1-armhf", program, "MISSING_KERNEL_BTF",
                         "failed to find valid kernel BTF");
    }
    for (const char* host : {"lab-6.1-amd64", "lab-6.12-amd64", "lab-6.1-arm64"}) {
        expect_fired(host, "core_task_state");
    }
}

// The same 6.1 kernel version without a JIT by default (armhf) refuses what
// the JIT-ed ones run: bpf_loop's callback.
TEST_F(LabMatrix, TheArmhfKernelRunsNoCallbacksWithoutItsJit) {
    expect_load_fail("lab-6.1-armhf", "loop_callback", "VERIFIER_REJECT",
                     "callbacks are not allowed in non-JITed programs");
    for (const char* host : {"lab-6.1-amd64", "lab-6.12-amd64", "lab-6.1-arm64"}) {
        expect_fired(host, "loop_callback");
    }
    // 5.10 has no bpf_loop: the verdict only, see docs/lab.md for the code.
    for (const char* host : {"lab-5.10-amd64", "lab-5.10-arm64"}) {
        auto c = cell(host, "loop_callback");
        ASSERT_TRUE(c) << host;
        expect_stage(std::string(host) + " loop_callback load", *c->load, "fail");
    }
}

// The probe's fingerprints differ where the kernels' configs do, and agree
// with them VM by VM.
TEST_F(LabMatrix, ProbeFingerprintsFollowTheConfigs) {
    std::set<std::string> fingerprints;
    for (const auto& host : kLabHosts) {
        const std::string config = "\n" + slurp(g_suite->lab / "vms" / host.name / "config");
        auto has = [&](const std::string& option) {
            return config.find("\n" + option + "=y\n") != std::string::npos;
        };
        const json* h = find_host(g_suite->probe, host.name);
        ASSERT_NE(h, nullptr) << host.name;
        // Copies: a missing key reads as null (a failed expectation), where
        // operator[] on a const document would be undefined behaviour.
        json facts = h->value("facts", json::object());
        json features = facts["features"];
        ASSERT_TRUE(features.is_object()) << host.name << ": no fingerprint";
        fingerprints.insert(features.dump());
        EXPECT_EQ(facts["btf"]["vmlinux"].get<bool>(), has("CONFIG_DEBUG_INFO_BTF")) << host.name;
        EXPECT_EQ(facts["sysctl"]["bpf_jit_enable"].get<int>() == 1,
                  has("CONFIG_BPF_JIT_DEFAULT_ON") || has("CONFIG_BPF_JIT_ALWAYS_ON"))
            << host.name;
        EXPECT_EQ(features["attach"]["kprobe_multi"]["status"] == "supported", has("CONFIG_FPROBE"))
            << host.name << ": " << features["attach"]["kprobe_multi"].dump();
        if (has("CONFIG_DEBUG_INFO_BTF")) {
            EXPECT_EQ(features["attach"]["fentry"]["status"] == "supported",
                      has("CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS"))
                << host.name << ": " << features["attach"]["fentry"].dump();
        }
        // What the matrix's 5.10 cells come from.
        const bool bloom = features["map_types"]["bloom_filter"]["status"] == "supported";
        const bool syscall = features["prog_types"]["syscall"]["status"] == "supported";
        EXPECT_EQ(bloom, cell(host.name, "bloom_check")->load->at("verdict") == "pass")
            << host.name;
        EXPECT_EQ(syscall, cell(host.name, "syscall_prog")->load->at("verdict") == "pass")
            << host.name;
    }
    // Six kernels, and no two of them answer every probe alike.
    EXPECT_EQ(fingerprints.size(), kLabHosts.size());
}

// This machine's own kernel, read from its facts rather than assumed.
TEST_F(LabMatrix, ThisMachineAnswersAsItsFactsSay) {
    const json* h = find_host(g_suite->run, "this-machine");
    ASSERT_NE(h, nullptr);
    json facts = h->value("facts", json::object());
    expect_fired("this-machine", "helper_coarse_ns");
    expect_fired("this-machine", "bloom_check");
    if (facts["pmu"]["kprobe"].is_null()) {
        expect_attach_fail("this-machine", "kprobe_vfs_read", "ATTACH_TYPE_UNSUPPORTED", "kprobe");
    } else {
        expect_fired("this-machine", "kprobe_vfs_read");
    }
}
