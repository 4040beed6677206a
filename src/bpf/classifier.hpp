// Turns the evidence of a failed program load (errno, libbpf's messages, the
// verifier log, and a few facts about the host) into a stable FailureCode with
// the line that proves it and a remediation hint.
//
// A pure function of its input: unit-tested on verifier logs recorded from
// several kernels (tests/fixtures/verifier-logs/). Thread-safe.
#pragma once

#include "model/check_result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::bpf {

// What the host looked like when the load failed. Optional fields are
// "unknown"; rules that need them do not fire without them.
struct HostContext {
    bool privileged = true;                  // CAP_SYS_ADMIN or CAP_BPF in the effective set
    std::string lockdown;                    // "none", "integrity", "confidentiality", "" unknown
    bool kernel_btf = true;                  // /sys/kernel/btf/vmlinux is present
    bool external_btf = false;               // CO-RE was resolved against an external BTF file
    std::optional<bool> prog_type_supported; // libbpf_probe_bpf_prog_type() for this program
    bool kprobe_pmu = true;                  // /sys/bus/event_source/devices/kprobe exists
    bool uprobe_pmu = true;                  // /sys/bus/event_source/devices/uprobe exists
};

struct LoadFailure {
    int errnum = 0;        // positive errno from the load
    std::string program;   // program name, to pick its own libbpf messages
    std::string prog_type; // libbpf's type name, e.g. "tracing", "xdp", "unspec"
    std::string_view verifier_log;
    std::vector<std::string> libbpf_messages;
    std::vector<std::string> zero_sized_maps; // maps still at max_entries 0 when loaded
};

struct Classification {
    FailureCode code = FailureCode::Unknown;
    std::string message;  // one line: what failed
    std::string evidence; // the line (log or libbpf) that proves it
    std::string hint;
};

Classification classify_load_failure(const LoadFailure& failure, const HostContext& host);

struct AttachFailure {
    int errnum = 0;
    std::string strategy; // to_string(AttachKind)
    std::string message;  // what the agent tried, in one line
    std::vector<std::string> libbpf_messages;
};

Classification classify_attach_failure(const AttachFailure& failure, const HostContext& host);

// The last line of a verifier log that says why it stopped, skipping the
// statistics lines the kernel appends ("processed N insns", ...).
std::string verifier_error_line(std::string_view log);

struct VerifierStats {
    std::optional<std::uint64_t> insns_processed;
    std::optional<std::uint64_t> verification_time_us;
};
// Parses "processed N insns" and "verification time N usec" from a log.
VerifierStats parse_verifier_stats(std::string_view log);

} // namespace bpfleet::bpf
