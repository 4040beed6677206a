// HostFacts: the probe document (schema bpfleet.probe/v1, docs/agent-probe.md)
// as a C++ type, made by the agent (`bpfleet-agent probe`, the protocol's
// probe reply) and read by the controller (report.json, hosts/NAME/facts.json,
// the facts table of `bpfleet probe`).
//
// Plain values. `to_json` writes the document in its documented order;
// `parse_host_facts` reads one from an untrusted host: every documented member
// must be there with its documented type, strings and lists are bounded, and
// the first problem is an error naming the member ("facts.kernel.release:
// expected a string or null, got an integer").
//
// Members a newer agent adds within v1 are kept, not dropped: every object of
// the document has `extra`, the members this version does not know, in the
// order received, written back after the known ones. So facts.json and
// report.json carry what the host said even when the controller is older.
#pragma once

#include "common/result.hpp"
#include "model/json_fields.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bpfleet {

inline constexpr std::string_view kProbeSchema = "bpfleet.probe/v1";

// `extra` in every struct below: unknown members, kept (see above).

struct ProbeAgentInfo {
    std::string version;
    std::string libbpf_version;
    std::string arch; // what the agent was built for
    std::string build_id;
    Json extra = Json::object();
};

struct KernelFacts {
    std::optional<std::string> release; // uname -r
    std::optional<std::string> version; // uname -v
    Json extra = Json::object();
};

struct OsFacts {
    std::optional<std::string> id;
    std::optional<std::string> version_id;
    std::optional<std::string> pretty_name;
    std::optional<std::string> source; // the os-release file read
    Json extra = Json::object();
};

struct DmiFacts {
    std::optional<std::string> sys_vendor;
    std::optional<std::string> product_name;
    Json extra = Json::object();
};

struct BoardFacts {
    std::optional<std::string> model;
    std::optional<std::vector<std::string>> compatible; // most specific first
    DmiFacts dmi;
    Json extra = Json::object();
};

struct CpuFacts {
    std::int64_t online = 0;
    std::int64_t configured = 0;
    Json extra = Json::object();
};

struct MemoryFacts {
    std::optional<std::int64_t> total_bytes;
    Json extra = Json::object();
};

struct PrivilegeFacts {
    std::int64_t euid = 0;
    std::optional<std::string> cap_eff; // hex, as the kernel prints it
    std::optional<bool> cap_sys_admin;
    std::optional<bool> cap_bpf;
    std::optional<bool> cap_perfmon;
    std::optional<bool> cap_net_admin;
    bool privileged = false;
    Json extra = Json::object();
};

struct SecurityFacts {
    std::optional<std::string> lockdown;
    std::optional<std::vector<std::string>> lsm;
    Json extra = Json::object();
};

// A sysctl file: its integer, its raw text when it holds no integer, or
// nothing (null) when it could not be read.
using SysctlValue = std::variant<std::monostate, std::int64_t, std::string>;

struct SysctlFacts {
    SysctlValue bpf_jit_enable;
    SysctlValue bpf_jit_harden;
    SysctlValue bpf_jit_kallsyms;
    SysctlValue unprivileged_bpf_disabled;
    SysctlValue bpf_stats_enabled;
    SysctlValue perf_event_paranoid;
    SysctlValue kptr_restrict;
    Json extra = Json::object();
};

struct BtfFacts {
    bool vmlinux = false;
    std::optional<std::int64_t> vmlinux_bytes;
    std::optional<std::int64_t> modules;
    Json extra = Json::object();
};

struct PmuFacts {
    std::optional<std::int64_t> kprobe; // the dynamic PMU type, null without one
    std::optional<std::int64_t> uprobe;
    bool kprobe_events = false;
    bool uprobe_events = false;
    Json extra = Json::object();
};

struct FilesystemFacts {
    bool supported = false;
    std::vector<std::string> mounts;
    Json extra = Json::object();
};

struct FilesystemsFacts {
    FilesystemFacts tracefs;
    FilesystemFacts debugfs;
    FilesystemFacts bpffs;
    Json extra = Json::object();
};

struct CgroupV1Hierarchy {
    std::string path;
    std::string options;
    Json extra = Json::object();
};

struct CgroupFacts {
    std::string layout = "none"; // v2, hybrid, v1, none
    std::optional<std::string> unified;
    std::vector<CgroupV1Hierarchy> v1;
    Json extra = Json::object();
};

// --- the feature fingerprint -------------------------------------------------

enum class FeatureStatus { Supported, Unsupported, Error, Skipped };

std::string_view to_string(FeatureStatus s);
std::optional<FeatureStatus> feature_status_from_string(std::string_view s);

// One answer of the kernel: a program or map type, a helper in a program
// type, a stage of an attach probe.
struct FeatureAnswer {
    FeatureStatus status = FeatureStatus::Supported;
    std::optional<std::int64_t> errnum; // "errno": set on every answer but supported
    std::optional<std::string> errno_name;
    std::optional<std::string> log;      // the verifier's verdict line
    std::optional<FeatureStatus> libbpf; // helpers: libbpf's own answer
    std::optional<std::string> reason;   // skipped: why
    Json extra = Json::object();
};

// One attach mechanism probed for real (fentry, kprobe, ...). The overall
// status, errno and errno_name sit beside the per-stage answers.
struct AttachProbe {
    std::optional<std::string> target;
    // Absent for mechanisms that need no BTF id (kprobes); null when the
    // target is not in vmlinux BTF.
    std::optional<std::optional<std::int64_t>> btf_id;
    std::optional<FeatureAnswer> load;
    std::optional<FeatureAnswer> attach;
    FeatureStatus status = FeatureStatus::Supported;
    std::optional<std::int64_t> errnum;
    std::optional<std::string> errno_name;
    std::optional<std::string> stage; // the stage that failed
    std::optional<std::string> reason;
    Json extra = Json::object();
};

struct FeatureFingerprint {
    std::string libbpf_version;
    FeatureAnswer bpf_enable_stats;
    NamedList<FeatureAnswer> prog_types; // libbpf's names, libbpf's order
    NamedList<FeatureAnswer> map_types;
    NamedList<NamedList<FeatureAnswer>> helpers; // helper -> program type -> answer
    NamedList<AttachProbe> attach;
    Json extra = Json::object();
};

// --- the document --------------------------------------------------------------

struct HostFacts {
    ProbeAgentInfo agent;
    std::optional<std::string> arch; // uname -m
    KernelFacts kernel;
    std::optional<std::string> hostname;
    OsFacts os;
    BoardFacts board;
    CpuFacts cpus;
    MemoryFacts memory;
    PrivilegeFacts privileges;
    SecurityFacts security;
    SysctlFacts sysctl;
    BtfFacts btf;
    PmuFacts pmu;
    FilesystemsFacts filesystems;
    CgroupFacts cgroup;
    std::optional<FeatureFingerprint> features; // null unless asked for
    NamedList<std::string> unreadable;          // path -> errno name
    Json extra = Json::object();
};

// The bpfleet.probe/v1 document.
void to_json(Json& j, const HostFacts& facts);

// Reads a probe document from an untrusted host; `path` names it in errors
// ("facts"). Error code "protocol".
Result<HostFacts> parse_host_facts(const Json& document, std::string path = "facts");

// Nesting of a probe document: about 6 levels; room for a newer agent's members.
inline constexpr int kMaxFactsDepth = 32;

} // namespace bpfleet
