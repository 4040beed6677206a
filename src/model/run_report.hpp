// The result of a fleet run (schema bpfleet.run/v1): per host, its status
// (kept apart from program failures everywhere), the facts its agent
// probed, and one check report per object it ran. Plain values.
#pragma once

#include "model/check_result.hpp"
#include "model/host_facts.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bpfleet {

inline constexpr std::string_view kRunSchema = "bpfleet.run/v1";

enum class HostStatus {
    Ok,
    Unreachable,
    AuthFailed,
    HostkeyMismatch,
    Timeout,
    AgentError,
    UnsupportedArch,
    Skipped,
};

std::string_view to_string(HostStatus s);
std::optional<HostStatus> host_status_from_string(std::string_view s);

struct ObjectCheck {
    std::string artifact;        // the ARTIFACT argument
    std::string object;          // object name
    std::string arch;            // OCI architecture of the object, "" = any
    std::string image_digest;    // "" for a plain object
    std::string manifest_digest; // "" for a plain object
    std::string object_sha256;
    CheckReport report;
};

// The agent a host ran: which binary, where, and whether this run put it there.
struct AgentDeployment {
    std::string arch;   // uname -m of the host
    std::string sha256; // of the agent binary
    std::string path;   // on the host
    bool uploaded = false;
};

struct HostResult {
    std::string name;
    std::string address;
    std::uint16_t port = 0;        // 0 for the local transport
    std::string user;              // the SSH user ("" for the local transport)
    std::vector<std::string> jump; // jump hosts on the way, outermost first
    std::string transport;         // "local" or "ssh"
    HostStatus status = HostStatus::Ok;
    std::string stage; // where it failed: connect, auth, hostkey, deploy, run ("" when ok)
    std::string error; // what failed, for a person ("" when ok)
    int attempts = 1;  // connection attempts (retries after transport failures)
    std::optional<AgentDeployment> agent;
    // What the agent probed; none when the host never answered a probe
    // (written as {} in the report).
    std::optional<HostFacts> facts;
    std::vector<ObjectCheck> checks;
    double duration_ms = 0;

    // Some program failed or errored on this host.
    [[nodiscard]] bool has_program_failures() const;
};

// A selected host × artifact pair that produced no verdict: the host gave no
// answer, was skipped, or the artifact has no object for its architecture.
// Such a pair is `miss`, never a pass (docs/cli.md, exit status).
struct MissingPair {
    std::string host;
    std::string artifact;
    std::string reason;
};

struct RunSummary {
    int hosts = 0;
    int hosts_ok = 0;
    // unreachable, auth, host key, timeout, agent error, and hosts skipped
    // because the run was cancelled (they gave no answer either)
    int hosts_unanswered = 0;
    int programs = 0;
    int pass = 0;
    int fail = 0;
    int skip = 0;
    int error = 0;
    int miss = 0; // host × artifact pairs without a verdict (= missing.size())
    std::vector<MissingPair> missing;

    // Every selected host × artifact pair has a verdict.
    [[nodiscard]] bool complete() const { return missing.empty(); }
};

// One object of an artifact, as resolved for this run.
struct ObjectDigest {
    std::string arch; // OCI architecture, "" = any
    std::string name;
    std::string sha256;
};

// An artifact as this run resolved it: its digest and each object's.
struct ArtifactDigests {
    std::string spec;         // the ARTIFACT argument
    std::string image_digest; // "" for a plain object
    std::vector<ObjectDigest> objects;
};

// What makes two runs the same run: the journal's header, and `run` in
// report.json. `--resume` refuses a journal whose identity differs.
struct RunIdentity {
    std::string mode = "run"; // "run" or "probe"
    std::vector<ArtifactDigests> artifacts;
    Json options = Json::object(); // the options that shape verdicts
    std::string inventory_sha256;  // of the -i file's bytes, "" for this machine
};

// "" when `a` and `b` are the same run, else what differs, for a person
// ("artifact 'x.bpf.o': object x.bpf.o sha256 1a2b... here, 3c4d... in the journal").
std::string identity_difference(const RunIdentity& journal, const RunIdentity& now);

void to_json(Json& j, const RunIdentity& v);
void from_json(const Json& j, RunIdentity& v);

struct RunReport {
    std::string started;   // RFC 3339 UTC
    std::string inventory; // the -i file, "" for the local machine
    std::string cancelled; // "SIGINT"/"SIGTERM" when the run was cut short, else ""
    std::string finished;
    double duration_ms = 0;
    std::vector<std::string> artifacts;
    std::vector<HostResult> hosts;

    [[nodiscard]] RunSummary summary() const;
    // 130 (SIGINT) or 143 (SIGTERM) when the run was cancelled; else 1 a
    // program failed or errored; 3 some host gave no answer or some pair is
    // `miss`; 0 every pair checked and nothing failed: the status bpfleet
    // exits with, and report.json's "exit_status".
    [[nodiscard]] int exit_status() const;
};

void to_json(Json& j, const ObjectCheck& v);
void from_json(const Json& j, ObjectCheck& v);
void to_json(Json& j, const HostResult& v);
void from_json(const Json& j, HostResult& v);
void to_json(Json& j, const RunReport& v);

Result<HostResult> parse_host_result(std::string_view line);

} // namespace bpfleet
