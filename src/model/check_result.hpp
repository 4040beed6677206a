// The result model of one check: what the agent found out about an object and
// each of its programs on one kernel. Plain value types, serialised to the
// bpfleet.check/v1 JSON document (docs/report-schema.md, docs/check.schema.json).
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet {

using Json = nlohmann::ordered_json;

inline constexpr std::string_view kCheckSchema = "bpfleet.check/v1";

enum class Verdict { Pass, Fail, Skip, Error, Miss };

// Stable failure codes (docs/failure-codes.md). Never renumber or rename.
enum class FailureCode {
    None,
    VerifierReject,
    HelperUnavailable,
    ProgTypeUnsupported,
    AttachTypeUnsupported,
    MapTypeUnsupported,
    MissingKernelBtf,
    CoreRelocationFailed,
    AttachTargetMissing,
    PermissionDenied,
    LoaderContract,
    ObjectInvalid,
    ResourceLimit,
    Unknown,
    NotFired, // attached and triggered, but the program never ran
};

std::string_view to_string(Verdict v);
std::optional<Verdict> verdict_from_string(std::string_view s);
std::string_view to_string(FailureCode c);
std::optional<FailureCode> failure_code_from_string(std::string_view s);
// The generic remediation for a code; classifiers may give a sharper one.
std::string_view default_hint(FailureCode c);
// "EACCES" for 13, "E524" when the name is unknown.
std::string errno_name(int errnum);

struct VerifierLog {
    std::string text;       // the kept part (the tail when truncated)
    std::uint64_t size = 0; // bytes the kernel wrote, >= text.size()
    bool truncated = false;
    int level = 0; // the log_level the kernel was asked for
};

// One stage (load, later attach and fire) of one program.
struct StageResult {
    Verdict verdict = Verdict::Miss;
    FailureCode code = FailureCode::None;
    int errnum = 0;
    std::string message;  // what failed, in one line (libbpf's or the kernel's words)
    std::string evidence; // the log line that proves the code
    std::string hint;     // what to do about it
    std::optional<std::uint64_t> insns_processed;
    std::optional<std::uint64_t> verification_time_us;
    std::optional<VerifierLog> log;
    std::vector<std::string> libbpf_messages;
    // attach stage: the strategy used and what the program was attached to
    std::string strategy;
    std::string target;
    // fire stage: what was done to trigger it and whether it ran
    std::string trigger;
    std::optional<bool> fired; // nullopt: unknown (see message)
    std::optional<std::uint64_t> run_count;
};

struct ProgramFacts {
    std::string name;
    std::string section;
    std::string type;                 // libbpf's name, "unspec" when it has none
    std::string expected_attach_type; // empty when none
    std::uint64_t insns = 0;
    bool autoload = true;
};

struct MapFacts {
    std::string name;
    std::string type;
    std::uint32_t key_size = 0;
    std::uint32_t value_size = 0;
    std::uint32_t max_entries = 0;
    std::uint32_t flags = 0;
    bool pinned_by_name = false;
    bool internal = false; // .rodata, .bss, .data, .kconfig
};

struct ObjectFacts {
    std::string name;
    std::uint64_t size = 0;
    std::string sha256;
    std::string license;
    bool has_btf = false;
    bool has_btf_ext = false;
    std::vector<ProgramFacts> programs;
    std::vector<MapFacts> maps;
};

// A change made to the object before loading it, so that an as-compiled load is
// not stricter than the object's real loader. Every fixup is reported.
struct Fixup {
    std::string kind;   // "program_type", "map_max_entries", "program_disabled"
    std::string target; // program or map name
    std::string from;
    std::string to;
    std::string source; // "auto", "rodata", "fixups_file"
    std::string reason;
};

struct ProgramResult {
    std::string name;
    std::string section;
    std::string type;
    StageResult load;
    std::optional<StageResult> attach; // absent with --load-only
    std::optional<StageResult> fire;   // absent with --load-only

    // error if a stage errored or is missing, fail if one failed, skip if the
    // program was not loaded on purpose, else pass.
    [[nodiscard]] Verdict overall() const;
    // The code that explains overall(): that of the first stage that did not
    // pass and has one; None when every stage passed.
    [[nodiscard]] FailureCode overall_code() const;
};

struct AgentInfo {
    std::string version;
    std::string libbpf_version;
    std::string arch;
};

struct KernelInfo {
    std::string release;
    std::string arch;
};

struct ObjectError {
    FailureCode code = FailureCode::ObjectInvalid;
    int errnum = 0;
    std::string message;
};

struct CheckSummary {
    int programs = 0;
    int pass = 0;
    int fail = 0;
    int skip = 0;
    int error = 0;
};

// The kernel BTF a check's loads were resolved against (docs/btf.md).
struct BtfUsed {
    std::string source; // "kernel": /sys/kernel/btf/vmlinux; "external": a file; "none"
    std::string path;   // the file libbpf read; empty for "none"
    std::string sha256; // of an external file; empty otherwise
};

struct CheckReport {
    AgentInfo agent;
    KernelInfo kernel;
    std::optional<BtfUsed> btf; // absent from agents that predate it
    ObjectFacts object;
    std::vector<Fixup> fixups;
    std::vector<ProgramResult> programs;
    std::optional<ObjectError> object_error; // set when the object could not be opened at all
    double duration_ms = 0;

    [[nodiscard]] CheckSummary summary() const;
    // 0 every program loaded, 1 some program failed, 2 the object itself is bad.
    [[nodiscard]] int exit_status() const;
};

void to_json(Json& j, const VerifierLog& v);
void from_json(const Json& j, VerifierLog& v);
void to_json(Json& j, const StageResult& v);
void from_json(const Json& j, StageResult& v);
void to_json(Json& j, const ProgramFacts& v);
void from_json(const Json& j, ProgramFacts& v);
void to_json(Json& j, const MapFacts& v);
void from_json(const Json& j, MapFacts& v);
void to_json(Json& j, const ObjectFacts& v);
void from_json(const Json& j, ObjectFacts& v);
void to_json(Json& j, const Fixup& v);
void from_json(const Json& j, Fixup& v);
void to_json(Json& j, const ProgramResult& v);
void from_json(const Json& j, ProgramResult& v);
void to_json(Json& j, const CheckReport& v);
void from_json(const Json& j, CheckReport& v);

// Parse and validate a bpfleet.check/v1 document from untrusted text.
Result<CheckReport> parse_check_report(std::string_view text);
// The same for a document already parsed (a check reply's "report"); refuses
// one nested deeper than kMaxReportDepth.
Result<CheckReport> check_report_from_json(const Json& document);

// Far deeper than a real document (5 levels). Json is an ordered_json, which
// copies a member recursively when its object grows: unbounded nesting from an
// untrusted host would overflow the stack.
inline constexpr int kMaxReportDepth = 32;

} // namespace bpfleet
