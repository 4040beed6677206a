#include "model/check_result.hpp"

#include "common/json_depth.hpp"
#include "model/json_fields.hpp"

#include <array>
#include <cerrno>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace bpfleet {
namespace {

constexpr std::array<std::pair<Verdict, std::string_view>, 5> kVerdicts = {{
    {Verdict::Pass, "pass"},
    {Verdict::Fail, "fail"},
    {Verdict::Skip, "skip"},
    {Verdict::Error, "error"},
    {Verdict::Miss, "miss"},
}};

struct CodeInfo {
    FailureCode code;
    std::string_view name;
    std::string_view hint;
};

constexpr std::array<CodeInfo, 15> kCodes = {{
    {FailureCode::None, "", ""},
    {FailureCode::VerifierReject, "VERIFIER_REJECT",
     "The verifier rejected the program on this kernel: fix the code at the quoted line "
     "(bounds checks, NULL checks, loop bounds) or build a variant for older kernels."},
    {FailureCode::HelperUnavailable, "HELPER_UNAVAILABLE",
     "The helper does not exist on this kernel or is not allowed for this program type: "
     "guard it with a CO-RE feature check (bpf_core_enum_value_exists / "
     "bpf_ksym_exists) or use an older helper."},
    {FailureCode::ProgTypeUnsupported, "PROG_TYPE_UNSUPPORTED",
     "This kernel does not support the program type: it is too old or built without the "
     "needed config; disable the program here or provide a fallback type."},
    {FailureCode::AttachTypeUnsupported, "ATTACH_TYPE_UNSUPPORTED",
     "The kernel knows the program type but not this attach mechanism (e.g. no "
     "direct-call ftrace for fentry/fexit, no kprobes): use a fallback attach type such as "
     "kprobe or tracepoint."},
    {FailureCode::MapTypeUnsupported, "MAP_TYPE_UNSUPPORTED",
     "The kernel cannot create this map type or these map flags: use a fallback map "
     "(e.g. perf event array instead of ring buffer before 5.8)."},
    {FailureCode::MissingKernelBtf, "MISSING_KERNEL_BTF",
     "The program needs kernel BTF and /sys/kernel/btf/vmlinux is absent: enable "
     "CONFIG_DEBUG_INFO_BTF or supply external BTF (BTFHub, btfgen)."},
    {FailureCode::CoreRelocationFailed, "CORE_RELOCATION_FAILED",
     "A CO-RE relocation found no matching field or type in this kernel's BTF: guard the "
     "access with bpf_core_field_exists() or handle the older layout."},
    {FailureCode::AttachTargetMissing, "ATTACH_TARGET_MISSING",
     "The function, tracepoint or BTF type the program attaches to does not exist on this "
     "kernel: pick a target present on all kernels or make the program optional."},
    {FailureCode::PermissionDenied, "PERMISSION_DENIED",
     "The kernel refused for lack of privilege: run as root or with CAP_BPF/CAP_PERFMON/"
     "CAP_NET_ADMIN, and check kernel lockdown and LSM policy."},
    {FailureCode::LoaderContract, "LOADER_CONTRACT",
     "The object needs set-up that only its own loader does (program types, map sizes, "
     "constants): describe it in a fixups file."},
    {FailureCode::ObjectInvalid, "OBJECT_INVALID",
     "The file is not a loadable BPF ELF object: rebuild it with clang -target bpf and a "
     "libbpf-compatible layout (BTF-defined maps, SEC() names)."},
    {FailureCode::ResourceLimit, "RESOURCE_LIMIT",
     "A kernel limit was hit (instruction or complexity limit, memlock, map size): "
     "simplify the program, split it with tail calls, or raise the limit."},
    {FailureCode::Unknown, "UNKNOWN",
     "bpfleet could not classify this failure: read the verifier log and the libbpf "
     "messages, and report the case so a rule can be added."},
    {FailureCode::NotFired, "NOT_FIRED",
     "The program attached but its trigger never made it run: on this kernel the attach "
     "point is not on the path the trigger exercises (renamed or inlined function, event "
     "not emitted); check the target against this kernel."},
}};

// Reads a value of untrusted JSON. nlohmann's own number conversion takes
// booleans as 0/1, truncates fractions, wraps negatives into unsigned types and
// converts out-of-range doubles (undefined behaviour): numbers are checked here.
template <typename T> T checked_get(const Json& v, const char* key) {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        if (v.is_number_unsigned()) {
            auto n = v.get<std::uint64_t>();
            if (std::in_range<T>(n)) {
                return static_cast<T>(n);
            }
        } else if (v.is_number_integer()) {
            auto n = v.get<std::int64_t>();
            if (std::in_range<T>(n)) {
                return static_cast<T>(n);
            }
        }
        throw std::invalid_argument(std::string("'") + key + "' is not an integer in range");
    } else if constexpr (std::is_floating_point_v<T>) {
        if (!v.is_number()) {
            throw std::invalid_argument(std::string("'") + key + "' is not a number");
        }
        return v.get<T>();
    } else {
        return v.template get<T>();
    }
}

template <typename T> T get_at(const Json& j, const char* key) {
    return checked_get<T>(j.at(key), key);
}

template <typename T> std::optional<T> opt_get(const Json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return std::nullopt;
    }
    return checked_get<T>(*it, key);
}

template <typename T> void get_if_present(const Json& j, const char* key, T& out) {
    auto it = j.find(key);
    if (it != j.end() && !it->is_null()) {
        out = checked_get<T>(*it, key);
    }
}

} // namespace

std::string_view to_string(Verdict v) {
    for (const auto& [value, name] : kVerdicts) {
        if (value == v) {
            return name;
        }
    }
    return "miss";
}

std::optional<Verdict> verdict_from_string(std::string_view s) {
    for (const auto& [value, name] : kVerdicts) {
        if (name == s) {
            return value;
        }
    }
    return std::nullopt;
}

std::string_view to_string(FailureCode c) {
    for (const auto& info : kCodes) {
        if (info.code == c) {
            return info.name;
        }
    }
    return "UNKNOWN";
}

std::optional<FailureCode> failure_code_from_string(std::string_view s) {
    for (const auto& info : kCodes) {
        if (info.name == s) {
            return info.code;
        }
    }
    return std::nullopt;
}

std::string_view default_hint(FailureCode c) {
    for (const auto& info : kCodes) {
        if (info.code == c) {
            return info.hint;
        }
    }
    return "";
}

std::string errno_name(int errnum) {
    switch (errnum) {
    case 0:
        return "";
    case EPERM:
        return "EPERM";
    case ENOENT:
        return "ENOENT";
    case ESRCH:
        return "ESRCH";
    case EINTR:
        return "EINTR";
    case EIO:
        return "EIO";
    case E2BIG:
        return "E2BIG";
    case EBADF:
        return "EBADF";
    case EAGAIN:
        return "EAGAIN";
    case ENOMEM:
        return "ENOMEM";
    case EACCES:
        return "EACCES";
    case EFAULT:
        return "EFAULT";
    case EBUSY:
        return "EBUSY";
    case EEXIST:
        return "EEXIST";
    case ENODEV:
        return "ENODEV";
    case EINVAL:
        return "EINVAL";
    case ENOSPC:
        return "ENOSPC";
    case ERANGE:
        return "ERANGE";
    case ENOSYS:
        return "ENOSYS";
    case ENOTSUP:
        return "EOPNOTSUPP";
    case ENOEXEC:
        return "ENOEXEC";
    case ENXIO:
        return "ENXIO";
    case EPROTO:
        return "EPROTO";
    case ELOOP:
        return "ELOOP";
    case ETIMEDOUT:
        return "ETIMEDOUT";
    case 524:
        return "ENOTSUPP";
    default:
        return "E" + std::to_string(errnum);
    }
}

CheckSummary CheckReport::summary() const {
    CheckSummary s;
    for (const auto& p : programs) {
        ++s.programs;
        switch (p.overall()) {
        case Verdict::Pass:
            ++s.pass;
            break;
        case Verdict::Fail:
            ++s.fail;
            break;
        case Verdict::Skip:
            ++s.skip;
            break;
        case Verdict::Error:
        case Verdict::Miss:
            ++s.error;
            break;
        }
    }
    return s;
}

Verdict ProgramResult::overall() const {
    bool failed = false;
    for (const StageResult* stage : {&load, attach ? &*attach : nullptr, fire ? &*fire : nullptr}) {
        if (!stage) {
            continue;
        }
        if (stage->verdict == Verdict::Error || stage->verdict == Verdict::Miss) {
            return Verdict::Error;
        }
        failed |= stage->verdict == Verdict::Fail;
    }
    if (failed) {
        return Verdict::Fail;
    }
    return load.verdict == Verdict::Skip ? Verdict::Skip : Verdict::Pass;
}

FailureCode ProgramResult::overall_code() const {
    for (const StageResult* stage : {&load, attach ? &*attach : nullptr, fire ? &*fire : nullptr}) {
        if (stage && stage->verdict != Verdict::Pass && stage->code != FailureCode::None) {
            return stage->code;
        }
    }
    return FailureCode::None;
}

int CheckReport::exit_status() const {
    if (object_error) {
        // Bad input (the object, its fixups, the external BTF given for it)
        // is 2; a sandbox or watchdog failure is trouble on the host: 1.
        return (object_error->code == FailureCode::ObjectInvalid ||
                object_error->code == FailureCode::LoaderContract ||
                object_error->code == FailureCode::MissingKernelBtf)
                   ? 2
                   : 1;
    }
    auto s = summary();
    return (s.fail > 0 || s.error > 0) ? 1 : 0;
}

void to_json(Json& j, const VerifierLog& v) {
    j = Json{{"level", v.level}, {"size", v.size}, {"truncated", v.truncated}, {"text", v.text}};
}

void from_json(const Json& j, VerifierLog& v) {
    v.level = get_at<int>(j, "level");
    v.size = get_at<std::uint64_t>(j, "size");
    v.truncated = j.at("truncated").get<bool>();
    v.text = j.at("text").get<std::string>();
}

void to_json(Json& j, const StageResult& v) {
    j = Json::object();
    j["verdict"] = to_string(v.verdict);
    j["code"] = v.code == FailureCode::None ? Json(nullptr) : Json(to_string(v.code));
    j["errno"] = v.errnum;
    j["errno_name"] = errno_name(v.errnum);
    j["message"] = v.message;
    j["evidence"] = v.evidence;
    j["hint"] = v.hint;
    j["insns_processed"] = v.insns_processed ? Json(*v.insns_processed) : Json(nullptr);
    j["verification_time_us"] =
        v.verification_time_us ? Json(*v.verification_time_us) : Json(nullptr);
    j["libbpf_messages"] = v.libbpf_messages;
    j["log"] = v.log ? Json(*v.log) : Json(nullptr);
    if (!v.strategy.empty()) {
        j["strategy"] = v.strategy;
        j["target"] = v.target;
    }
    if (!v.trigger.empty()) {
        j["trigger"] = v.trigger;
        j["fired"] = v.fired ? Json(*v.fired) : Json("unknown");
        j["run_count"] = v.run_count ? Json(*v.run_count) : Json(nullptr);
    }
}

void from_json(const Json& j, StageResult& v) {
    auto verdict = verdict_from_string(j.at("verdict").get<std::string>());
    if (!verdict) {
        throw std::invalid_argument("unknown verdict '" + j.at("verdict").get<std::string>() + "'");
    }
    v.verdict = *verdict;
    v.code = FailureCode::None;
    if (auto code = opt_get<std::string>(j, "code")) {
        auto parsed = failure_code_from_string(*code);
        // "" names FailureCode::None, which the document spells null.
        if (!parsed || *parsed == FailureCode::None) {
            throw std::invalid_argument("unknown failure code '" + *code + "'");
        }
        v.code = *parsed;
    }
    get_if_present(j, "errno", v.errnum);
    get_if_present(j, "message", v.message);
    get_if_present(j, "evidence", v.evidence);
    get_if_present(j, "hint", v.hint);
    v.insns_processed = opt_get<std::uint64_t>(j, "insns_processed");
    v.verification_time_us = opt_get<std::uint64_t>(j, "verification_time_us");
    get_if_present(j, "libbpf_messages", v.libbpf_messages);
    v.log = opt_get<VerifierLog>(j, "log");
    get_if_present(j, "strategy", v.strategy);
    get_if_present(j, "target", v.target);
    get_if_present(j, "trigger", v.trigger);
    v.fired.reset();
    if (auto it = j.find("fired"); it != j.end() && it->is_boolean()) {
        v.fired = it->get<bool>();
    }
    v.run_count = opt_get<std::uint64_t>(j, "run_count");
}

void to_json(Json& j, const ProgramFacts& v) {
    j = Json{{"name", v.name},   {"section", v.section},
             {"type", v.type},   {"expected_attach_type", v.expected_attach_type},
             {"insns", v.insns}, {"autoload", v.autoload}};
}

void from_json(const Json& j, ProgramFacts& v) {
    v.name = j.at("name").get<std::string>();
    v.section = j.at("section").get<std::string>();
    v.type = j.at("type").get<std::string>();
    get_if_present(j, "expected_attach_type", v.expected_attach_type);
    get_if_present(j, "insns", v.insns);
    get_if_present(j, "autoload", v.autoload);
}

void to_json(Json& j, const MapFacts& v) {
    j = Json{{"name", v.name},
             {"type", v.type},
             {"key_size", v.key_size},
             {"value_size", v.value_size},
             {"max_entries", v.max_entries},
             {"flags", v.flags},
             {"pinned_by_name", v.pinned_by_name},
             {"internal", v.internal}};
}

void from_json(const Json& j, MapFacts& v) {
    v.name = j.at("name").get<std::string>();
    v.type = j.at("type").get<std::string>();
    get_if_present(j, "key_size", v.key_size);
    get_if_present(j, "value_size", v.value_size);
    get_if_present(j, "max_entries", v.max_entries);
    get_if_present(j, "flags", v.flags);
    get_if_present(j, "pinned_by_name", v.pinned_by_name);
    get_if_present(j, "internal", v.internal);
}

void to_json(Json& j, const ObjectFacts& v) {
    j = Json{{"name", v.name},         {"size", v.size},   {"sha256", v.sha256},
             {"license", v.license},   {"btf", v.has_btf}, {"btf_ext", v.has_btf_ext},
             {"programs", v.programs}, {"maps", v.maps}};
}

void from_json(const Json& j, ObjectFacts& v) {
    v.name = j.at("name").get<std::string>();
    v.size = get_at<std::uint64_t>(j, "size");
    v.sha256 = j.at("sha256").get<std::string>();
    get_if_present(j, "license", v.license);
    get_if_present(j, "btf", v.has_btf);
    get_if_present(j, "btf_ext", v.has_btf_ext);
    get_if_present(j, "programs", v.programs);
    get_if_present(j, "maps", v.maps);
}

void to_json(Json& j, const Fixup& v) {
    j = Json{{"kind", v.kind}, {"target", v.target}, {"from", v.from},
             {"to", v.to},     {"source", v.source}, {"reason", v.reason}};
}

void from_json(const Json& j, Fixup& v) {
    v.kind = j.at("kind").get<std::string>();
    v.target = j.at("target").get<std::string>();
    get_if_present(j, "from", v.from);
    get_if_present(j, "to", v.to);
    get_if_present(j, "source", v.source);
    get_if_present(j, "reason", v.reason);
}

void to_json(Json& j, const ProgramResult& v) {
    j = Json{{"name", v.name}, {"section", v.section}, {"type", v.type}, {"load", v.load}};
    if (v.attach) {
        j["attach"] = *v.attach;
    }
    if (v.fire) {
        j["fire"] = *v.fire;
    }
}

void from_json(const Json& j, ProgramResult& v) {
    v.name = j.at("name").get<std::string>();
    get_if_present(j, "section", v.section);
    get_if_present(j, "type", v.type);
    v.load = j.at("load").get<StageResult>();
    v.attach = opt_get<StageResult>(j, "attach");
    v.fire = opt_get<StageResult>(j, "fire");
}

void to_json(Json& j, const CheckReport& v) {
    auto s = v.summary();
    j = Json::object();
    j["schema"] = kCheckSchema;
    j["agent"] = Json{
        {"version", v.agent.version}, {"libbpf", v.agent.libbpf_version}, {"arch", v.agent.arch}};
    j["kernel"] = Json{{"release", v.kernel.release}, {"arch", v.kernel.arch}};
    if (v.btf) {
        j["btf"] = Json{{"source", v.btf->source}, {"path", v.btf->path}};
        if (!v.btf->sha256.empty()) {
            j["btf"]["sha256"] = v.btf->sha256;
        }
    }
    if (v.object_error) {
        j["error"] = Json{{"code", to_string(v.object_error->code)},
                          {"errno", v.object_error->errnum},
                          {"message", v.object_error->message},
                          {"hint", default_hint(v.object_error->code)}};
    } else {
        j["error"] = nullptr;
    }
    j["object"] = v.object;
    j["fixups"] = v.fixups;
    j["programs"] = v.programs;
    j["summary"] = Json{{"programs", s.programs},
                        {"pass", s.pass},
                        {"fail", s.fail},
                        {"skip", s.skip},
                        {"error", s.error}};
    j["duration_ms"] = v.duration_ms;
}

void from_json(const Json& j, CheckReport& v) {
    if (j.at("schema").get<std::string>() != kCheckSchema) {
        throw std::invalid_argument("schema is '" + j.at("schema").get<std::string>() +
                                    "', expected '" + std::string(kCheckSchema) + "'");
    }
    const auto& agent = j.at("agent");
    v.agent.version = agent.at("version").get<std::string>();
    v.agent.libbpf_version = agent.at("libbpf").get<std::string>();
    v.agent.arch = agent.at("arch").get<std::string>();
    const auto& kernel = j.at("kernel");
    v.kernel.release = kernel.at("release").get<std::string>();
    v.kernel.arch = kernel.at("arch").get<std::string>();
    v.btf.reset();
    if (auto it = j.find("btf"); it != j.end()) {
        BtfUsed btf;
        btf.source = it->at("source").get<std::string>();
        get_if_present(*it, "path", btf.path);
        get_if_present(*it, "sha256", btf.sha256);
        v.btf = std::move(btf);
    }
    v.object_error.reset();
    if (auto it = j.find("error"); it != j.end() && !it->is_null()) {
        ObjectError err;
        const auto name = it->at("code").get<std::string>();
        auto code = failure_code_from_string(name);
        if (!code || *code == FailureCode::None) {
            throw std::invalid_argument("unknown error code '" + name + "'");
        }
        err.code = *code;
        get_if_present(*it, "errno", err.errnum);
        err.message = it->at("message").get<std::string>();
        v.object_error = err;
    }
    v.object = j.at("object").get<ObjectFacts>();
    get_if_present(j, "fixups", v.fixups);
    get_if_present(j, "programs", v.programs);
    get_if_present(j, "duration_ms", v.duration_ms);
}

Result<CheckReport> parse_check_report(std::string_view text) {
    if (!json_depth_within(text, kMaxReportDepth)) {
        return make_error("invalid_report", "not a bpfleet.check/v1 document: nested deeper than " +
                                                std::to_string(kMaxReportDepth) + " levels");
    }
    try {
        return check_report_from_json(Json::parse(text));
    } catch (const std::exception& e) {
        return make_error("invalid_report",
                          std::string("not a bpfleet.check/v1 document: ") + e.what());
    }
}

Result<CheckReport> check_report_from_json(const Json& document) {
    if (!json_depth_at_most(document, kMaxReportDepth)) {
        return make_error("invalid_report", "not a bpfleet.check/v1 document: nested deeper than " +
                                                std::to_string(kMaxReportDepth) + " levels");
    }
    try {
        return document.get<CheckReport>();
    } catch (const std::exception& e) {
        return make_error("invalid_report",
                          std::string("not a bpfleet.check/v1 document: ") + e.what());
    }
}

} // namespace bpfleet
