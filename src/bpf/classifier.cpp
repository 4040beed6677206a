#include "bpf/classifier.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <functional>

namespace bpfleet::bpf {
namespace {

constexpr int kENOTSUPP = 524; // kernel-internal, leaks out of bpf(2)

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        auto pos = text.find('\n');
        auto line = text.substr(0, pos);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
            line.remove_suffix(1);
        }
        if (!line.empty()) {
            lines.push_back(line);
        }
        if (pos == std::string_view::npos) {
            break;
        }
        text.remove_prefix(pos + 1);
    }
    return lines;
}

bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

bool is_stats_line(std::string_view line) {
    return line.starts_with("processed ") || line.starts_with("verification time ") ||
           line.starts_with("stack depth ") || line.starts_with("max_states_per_insn") ||
           line.starts_with("-- END") || line.starts_with("-- BEGIN") ||
           line.starts_with("mark_read ") || line.starts_with("peak_states");
}

// The first line containing a needle, needles in priority order; for each
// needle the verifier log is searched before libbpf's messages.
std::optional<std::string> find_line(const std::vector<std::string_view>& log_lines,
                                     const std::vector<std::string>& messages,
                                     std::initializer_list<std::string_view> needles) {
    for (auto n : needles) {
        for (auto line : log_lines) {
            if (contains(line, n)) {
                return std::string(line);
            }
        }
        for (const auto& line : messages) {
            if (contains(line, n)) {
                return line;
            }
        }
    }
    return std::nullopt;
}

bool is_trampoline_type(std::string_view type) {
    return type == "tracing" || type == "lsm" || type == "ext";
}

// Program types the kernel attaches by the type ids of its own BTF (fentry,
// fexit, fmod_ret, tp_btf and iter are all "tracing"): no BTF file from
// elsewhere can stand in for the kernel's.
bool needs_kernel_btf_ids(std::string_view type) {
    return type == "tracing" || type == "lsm" || type == "struct_ops";
}

Classification make(FailureCode code, std::string message, std::string evidence,
                    std::string hint = {}) {
    Classification c;
    c.code = code;
    c.message = std::move(message);
    c.evidence = std::move(evidence);
    c.hint = hint.empty() ? std::string(default_hint(code)) : std::move(hint);
    return c;
}

} // namespace

std::string verifier_error_line(std::string_view log) {
    auto lines = split_lines(log);
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        if (!is_stats_line(*it)) {
            return std::string(*it);
        }
    }
    return {};
}

VerifierStats parse_verifier_stats(std::string_view log) {
    VerifierStats stats;
    auto number_after = [&](std::string_view prefix) -> std::optional<std::uint64_t> {
        auto pos = log.rfind(prefix);
        if (pos == std::string_view::npos) {
            return std::nullopt;
        }
        auto rest = log.substr(pos + prefix.size());
        std::uint64_t value = 0;
        auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
        if (ec != std::errc() || ptr == rest.data()) {
            return std::nullopt;
        }
        return value;
    };
    stats.insns_processed = number_after("processed ");
    stats.verification_time_us = number_after("verification time ");
    return stats;
}

Classification classify_load_failure(const LoadFailure& f, const HostContext& host) {
    const auto log_lines = split_lines(f.verifier_log);
    const auto& msgs = f.libbpf_messages;
    const std::string errno_text = f.errnum ? errno_name(f.errnum) : std::string("no errno");

    // The object is malformed for libbpf.
    if (auto line = find_line({}, msgs,
                              {"legacy map definitions", "elf: ", "failed to get EHDR", "corrupted",
                               "invalid relo", "bad map relo", "invalid ELF"})) {
        return make(FailureCode::ObjectInvalid, "libbpf refused the object", *line);
    }

    // libbpf could not tell the program type from the section name.
    if (auto line = find_line({}, msgs, {"missing BPF prog type", "unrecognized ELF section"})) {
        return make(FailureCode::LoaderContract,
                    "the section name gives libbpf no program type; its own loader sets it", *line,
                    "Set the program type in a fixups file ([programs.NAME] type = \"...\"), "
                    "or rename the section to one libbpf knows (SEC(\"xdp\"), SEC(\"tc\"), ...).");
    }

    if (auto line = find_line(log_lines, msgs,
                              {"failed to find valid kernel BTF", "Error loading vmlinux BTF",
                               "failed to load vmlinux BTF", "failed to parse target BTF"})) {
        if (!host.kernel_btf && needs_kernel_btf_ids(f.prog_type)) {
            return make(FailureCode::MissingKernelBtf,
                        "a " + f.prog_type +
                            " program attaches by the type ids of the kernel's own BTF, and this "
                            "host has no /sys/kernel/btf/vmlinux (external BTF cannot stand in)",
                        *line,
                        "fentry/fexit/fmod_ret, tp_btf, lsm, iter and struct_ops programs need a "
                        "kernel built with CONFIG_DEBUG_INFO_BTF; use a kprobe, tracepoint or "
                        "raw_tracepoint variant of the program on this kernel.");
        }
        return make(FailureCode::MissingKernelBtf, "no usable kernel BTF on this host", *line);
    }

    if (auto line = find_line(log_lines, msgs,
                              {"failed to resolve CO-RE relocation", "<invalid CO-RE relocation>",
                               "relocation failed", "unknown#195896080"})) {
        if (!host.kernel_btf && !host.external_btf) {
            return make(FailureCode::MissingKernelBtf,
                        "CO-RE relocations need kernel BTF, which this host lacks", *line);
        }
        return make(FailureCode::CoreRelocationFailed,
                    "a CO-RE relocation has no match in this kernel's BTF", *line);
    }

    if (auto line = find_line(log_lines, msgs,
                              {"failed to find kernel BTF type ID", "The address of function",
                               "is not a function", "attach_btf_id", "Cannot find btf of",
                               "failed to find BTF for extern", "no such target",
                               "failed to find kernel func"})) {
        return make(FailureCode::AttachTargetMissing,
                    "the attach target does not exist on this kernel", *line);
    }

    if (auto line = find_line({}, msgs, {"failed to create", "map create", "failed to init"})) {
        bool zero_sized =
            std::any_of(f.zero_sized_maps.begin(), f.zero_sized_maps.end(),
                        [&](const std::string& m) { return contains(*line, "'" + m + "'"); });
        if (zero_sized) {
            return make(FailureCode::LoaderContract,
                        "a map has max_entries 0: its loader sizes it at run time", *line,
                        "Give the map a size in a fixups file ([maps.NAME] max_entries = N) "
                        "or declare NAME_max_entries in .rodata.");
        }
        if (f.errnum == E2BIG || f.errnum == ENOMEM) {
            return make(FailureCode::ResourceLimit, "a map could not be created: too large", *line);
        }
        if (f.errnum == EPERM && !host.privileged) {
            return make(FailureCode::PermissionDenied, "creating maps needs privileges", *line);
        }
        return make(FailureCode::MapTypeUnsupported,
                    "this kernel cannot create one of the object's maps", *line);
    }

    if (auto line = find_line(log_lines, {},
                              {"unknown func", "cannot use helper", "invalid func unknown#",
                               "helper call is not allowed", "calling kernel function",
                               "is not allowed in this program type", "kernel btf_id", "kfunc"})) {
        return make(FailureCode::HelperUnavailable,
                    "a helper or kfunc is unavailable for this program type on this kernel", *line);
    }

    if (auto line = find_line(log_lines, msgs,
                              {"BPF program is too large", "too complex", "too many instructions",
                               "combined stack size", "program too large"})) {
        return make(FailureCode::ResourceLimit, "a kernel limit was hit", *line);
    }
    // Kernels before 6.4 keep the head of a log that overflows; the stats line
    // still says the instruction limit was reached.
    for (auto line : log_lines) {
        if (line.starts_with("processed ")) {
            auto stats = parse_verifier_stats(line);
            auto limit_pos = line.find("(limit ");
            if (stats.insns_processed && limit_pos != std::string_view::npos) {
                std::uint64_t limit =
                    std::strtoull(std::string(line.substr(limit_pos + 7)).c_str(), nullptr, 10);
                if (limit > 0 && *stats.insns_processed > limit) {
                    return make(FailureCode::ResourceLimit,
                                "the verifier reached its instruction limit", std::string(line));
                }
            }
        }
    }
    if (f.errnum == E2BIG && log_lines.empty()) {
        return make(FailureCode::ResourceLimit, "the kernel refused the program's size",
                    "bpf(BPF_PROG_LOAD) = " + errno_text);
    }

    const std::string syscall_line = "bpf(BPF_PROG_LOAD) failed: " + errno_text;
    const bool log_empty =
        log_lines.empty() || std::all_of(log_lines.begin(), log_lines.end(), is_stats_line);

    if ((f.errnum == EPERM || f.errnum == EACCES) && log_empty) {
        if (!host.privileged) {
            return make(FailureCode::PermissionDenied,
                        "loading BPF programs needs CAP_BPF or CAP_SYS_ADMIN", syscall_line);
        }
        if (host.lockdown == "confidentiality" || host.lockdown == "integrity") {
            return make(FailureCode::PermissionDenied,
                        "kernel lockdown (" + host.lockdown + ") refuses this program",
                        syscall_line + " with lockdown=" + host.lockdown,
                        "This kernel is locked down; programs that read kernel memory are "
                        "refused. Lift lockdown on this host or use program types it allows.");
        }
        if (is_trampoline_type(f.prog_type)) {
            return make(FailureCode::AttachTypeUnsupported,
                        "the kernel refused a trampoline program (fentry/fexit/fmod_ret/lsm) "
                        "with EPERM although the loader is privileged",
                        syscall_line,
                        "This kernel cannot attach BPF trampolines (no "
                        "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS, or no BPF JIT for it): use "
                        "kprobe/kretprobe or tracepoint variants of the program here.");
        }
        return make(FailureCode::PermissionDenied,
                    "the kernel refused the load although the loader is privileged (LSM?)",
                    syscall_line,
                    "An LSM (SELinux, AppArmor, BPF LSM) or a sysctl refuses this program: "
                    "check the audit log and kernel.unprivileged_bpf_disabled; on kernels "
                    "before 5.11 also RLIMIT_MEMLOCK (ulimit -l).");
    }

    if (f.errnum == kENOTSUPP || f.errnum == EOPNOTSUPP) {
        if (log_empty && host.prog_type_supported == false) {
            return make(FailureCode::ProgTypeUnsupported,
                        "this kernel does not support program type '" + f.prog_type + "'",
                        syscall_line);
        }
        auto line = log_empty ? syscall_line : verifier_error_line(f.verifier_log);
        return make(FailureCode::AttachTypeUnsupported,
                    "the kernel does not support this program's attach type", line);
    }

    if (f.errnum == EINVAL && log_empty && host.prog_type_supported == false) {
        return make(FailureCode::ProgTypeUnsupported,
                    "this kernel does not support program type '" + f.prog_type + "'",
                    syscall_line);
    }

    if (!log_empty) {
        auto line = verifier_error_line(f.verifier_log);
        return make(FailureCode::VerifierReject, "the verifier rejected the program", line);
    }

    std::string last_msg = msgs.empty() ? syscall_line : msgs.back();
    return make(FailureCode::Unknown, "the load failed without a verifier log", last_msg);
}

Classification classify_attach_failure(const AttachFailure& f, const HostContext& host) {
    const std::string evidence = f.libbpf_messages.empty() ? f.message + ": " + errno_name(f.errnum)
                                                           : f.libbpf_messages.back();
    const std::string& s = f.strategy;
    const int e = f.errnum;
    if ((e == EPERM || e == EACCES) && !host.privileged) {
        return make(FailureCode::PermissionDenied, "attaching needs privileges", evidence);
    }
    if ((e == EPERM || e == EACCES) &&
        (host.lockdown == "confidentiality" || host.lockdown == "integrity")) {
        return make(FailureCode::PermissionDenied,
                    "kernel lockdown (" + host.lockdown + ") refuses this attach", evidence);
    }
    if (s == "kprobe" || s == "kprobe_multi") {
        if (!host.kprobe_pmu) {
            return make(FailureCode::AttachTypeUnsupported,
                        "this kernel has no kprobe support (no kprobe PMU, "
                        "CONFIG_KPROBE_EVENTS off)",
                        evidence,
                        "Use tracepoint or fentry variants of the program on this kernel, or "
                        "enable CONFIG_KPROBES/CONFIG_KPROBE_EVENTS.");
        }
        // A kernel before kprobe-multi links (5.18) refuses the link kind
        // itself with EINVAL: that is the mechanism missing, not the target.
        if (s == "kprobe_multi" && (e == EINVAL || e == EOPNOTSUPP || e == kENOTSUPP)) {
            return make(FailureCode::AttachTypeUnsupported,
                        "this kernel has no kprobe-multi links (BPF_TRACE_KPROBE_MULTI: "
                        "mainline 5.18, and only with CONFIG_FPROBE)",
                        evidence,
                        "Attach the program as a plain kprobe (SEC(\"kprobe/...\")) on this "
                        "kernel, one link per function.");
        }
        if (e == ENOENT || e == EINVAL || e == ESRCH) {
            return make(FailureCode::AttachTargetMissing,
                        "the kernel function to probe does not exist on this kernel", evidence);
        }
    }
    if (s == "tc" && (e == ENOENT || e == EOPNOTSUPP)) {
        return make(FailureCode::AttachTypeUnsupported,
                    "this kernel cannot create a clsact qdisc or a BPF classifier (sch_ingress "
                    "or cls_bpf not available)",
                    evidence,
                    "Load the sch_ingress and cls_bpf modules (CONFIG_NET_SCH_INGRESS, "
                    "CONFIG_NET_CLS_BPF) or build them into the kernel.");
    }
    if ((s == "uprobe" || s == "usdt") && !host.uprobe_pmu) {
        return make(FailureCode::AttachTypeUnsupported,
                    "this kernel has no uprobe support (CONFIG_UPROBE_EVENTS off)", evidence);
    }
    if ((s == "tracepoint" || s == "raw_tracepoint" || s == "tp_btf" || s == "iter") &&
        (e == ENOENT || e == ESRCH)) {
        return make(FailureCode::AttachTargetMissing,
                    "the tracepoint or iterator target does not exist on this kernel", evidence);
    }
    if (e == ENODEV || e == ENOENT || e == ESRCH) {
        return make(FailureCode::AttachTargetMissing, "the attach target does not exist", evidence);
    }
    if (e == E2BIG || e == ENOSPC || e == EMFILE || e == ENOMEM || e == EBUSY) {
        return make(FailureCode::ResourceLimit, "a kernel limit refused the attach", evidence);
    }
    if (e == EPERM || e == EACCES || e == EOPNOTSUPP || e == kENOTSUPP || e == EINVAL ||
        e == ENOTSUP) {
        return make(FailureCode::AttachTypeUnsupported, "the kernel refused this attach mechanism",
                    evidence);
    }
    return make(FailureCode::Unknown, "the attach failed", evidence);
}

} // namespace bpfleet::bpf
