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

// A host key that host_key_policy = "accept-new" added to a known_hosts
// file during this run (as OpenSSH says "Permanently added ...").
struct AddedHostKey {
    std::string host;        // as known_hosts names it: "addr" or "[addr]:port"
    std::string type;        // "ssh-ed25519", "ecdsa-sha2-nistp256", ...
    std::string fingerprint; // "SHA256:..."
    std::string file;        // the known_hosts file it went into
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
    // Host keys added under accept-new on the way to this host (its jump
    // hosts' first, then its own); empty when every key was already known.
    std::vector<AddedHostKey> host_keys_added{};
    // What the agent probed; none when the host never answered a probe
    // (written as {} in the report).
    std::optional<HostFacts> facts;
    std::vector<ObjectCheck> checks;
    double duration_ms = 0;
    // From the inventory, for grouping and filtering the report: tags (the
    // host's own and its groups', sorted), groups (sorted), vars (always an
    // object; secrets are refused by the inventory before they get here).
    std::vector<std::string> tags;
    std::vector<std::string> groups;
    Json vars = Json::object();

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
    // Names this run: made at its start, kept by --resume (from the journal's
    // header). Not part of what identity_difference() compares.
    std::string id;
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

// A fresh run id: the start time and 48 random bits ("20250105T221804Z-3f9c0a1b2c4d").
std::string new_run_id();

// What report.json says about the run itself (`run`): its identity and
// where it came from.
struct RunInfo {
    RunIdentity identity;
    std::string bpfleet_version;
    std::vector<std::string> command_line; // argv, secrets replaced by "<hidden>"
    std::string shard;                     // "I/N" when --shard ran a slice, else ""
};

inline constexpr std::string_view kDiffSchema = "bpfleet.diff/v1";

// One program (host × artifact × object × program) in both runs, or in one.
struct ProgramChange {
    std::string host;
    std::string artifact;
    std::string object;
    std::string program;
    Verdict old_verdict = Verdict::Miss; // the overall verdict; Miss: no verdict
    FailureCode old_code = FailureCode::None;
    Verdict new_verdict = Verdict::Miss;
    FailureCode new_code = FailureCode::None;
};

struct ReportDiff {
    std::string old_file; // as given, for messages and the JSON form
    std::string new_file;
    std::vector<ProgramChange> regressions;   // pass -> fail, error or miss
    std::vector<ProgramChange> improvements;  // fail, error or miss -> pass
    std::vector<ProgramChange> code_changes;  // failed in both, with another code
    std::vector<ProgramChange> other_changes; // any other verdict change (skip <-> pass, ...)
    std::vector<std::string> new_hosts;
    std::vector<std::string> vanished_hosts;
    std::vector<ProgramChange> new_programs;      // on a host in both runs
    std::vector<ProgramChange> vanished_programs; // the host answered, the program is gone
    int unchanged = 0;

    [[nodiscard]] bool regressed() const { return !regressions.empty(); }
};

void to_json(Json& j, const ReportDiff& v);
void from_json(const Json& j, ReportDiff& v);

// How one result measured up to an expectations file (--expect,
// docs/expectations.md): the rule that matched it and what it expected.
enum class ExpectationOutcome {
    Met,   // as expected
    Unmet, // not as expected: the run fails (exit 1)
    Stale, // expected to fail (or miss), and now passes (or has a verdict)
};

std::string_view to_string(ExpectationOutcome o);

struct ExpectationResult {
    std::string rule; // FILE:LINE of the [[expect]] table
    std::string host;
    std::string artifact;
    std::string object;  // "" for a host × artifact pair (expected miss)
    std::string program; // "" for a host × artifact pair
    std::string stage;   // "load", "attach", "fire"; "" = the program's overall verdict
    Verdict expected = Verdict::Pass;
    FailureCode expected_code = FailureCode::None; // None: any code
    Verdict actual = Verdict::Miss;
    FailureCode actual_code = FailureCode::None;
    ExpectationOutcome outcome = ExpectationOutcome::Met;
    std::string reason; // the rule's own words ("ring buffer needs 5.8")
};

// The expectations a run was judged by, and every result a rule matched.
struct ExpectationsApplied {
    std::string file;
    std::string sha256; // of the file's bytes
    std::vector<ExpectationResult> results;

    [[nodiscard]] int count(ExpectationOutcome o) const;
};

void to_json(Json& j, const ExpectationsApplied& v);
void from_json(const Json& j, ExpectationsApplied& v);

struct RunReport {
    RunInfo run;
    std::string started;   // RFC 3339 UTC
    std::string inventory; // the -i file, "" for the local machine
    std::string cancelled; // "SIGINT"/"SIGTERM" when the run was cut short, else ""
    std::string finished;
    double duration_ms = 0;
    std::vector<std::string> artifacts;
    std::vector<HostResult> hosts;
    // Set under --expect: the verdicts are judged against it (exit_status()).
    std::optional<ExpectationsApplied> expectations;
    // Set under --baseline: what changed since that run (report_diff.hpp).
    // A regression makes the exit status 1.
    std::optional<ReportDiff> baseline;

    [[nodiscard]] RunSummary summary() const;
    // 130 (SIGINT) or 143 (SIGTERM) when the run was cancelled; else 1 a
    // program failed or errored; 3 some host gave no answer or some pair is
    // `miss`; 0 every pair checked and nothing failed: the status bpfleet
    // exits with, and report.json's "exit_status". Under expectations: 1
    // when one is unmet or a program failed that no rule expected; 3 when a
    // pair is `miss` that no rule expected to be; stale ones do not count.
    // A regression against the baseline is 1 in any case.
    [[nodiscard]] int exit_status() const;
};

void to_json(Json& j, const ObjectCheck& v);
void from_json(const Json& j, ObjectCheck& v);
void to_json(Json& j, const HostResult& v);
void from_json(const Json& j, HostResult& v);
void to_json(Json& j, const RunInfo& v);
void from_json(const Json& j, RunInfo& v);
void to_json(Json& j, const RunReport& v);

Result<HostResult> parse_host_result(std::string_view line);

} // namespace bpfleet
