// The feature-fingerprint half of the probe: program and map types, helpers
// per program type, and one real load and attach per attach mechanism, each
// with the raw errno the kernel gave.

#include "feature_probe.hpp"

#include "bpf/libbpf_log.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "model/check_result.hpp"
#include "proc_files.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <linux/perf_event.h>
#include <optional>
#include <string>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <vector>

namespace bpfleet::agent {
namespace {

// A status, with errno and errno_name unless supported.
FeatureAnswer answer(FeatureStatus status, int errnum) {
    FeatureAnswer a;
    a.status = status;
    if (status != FeatureStatus::Supported) {
        a.errnum = errnum;
        a.errno_name = errno_name(errnum);
    }
    return a;
}

// The overall status of an attach probe, beside its per-stage answers.
void set_overall(AttachProbe& probe, FeatureStatus status, int errnum) {
    probe.status = status;
    probe.errnum.reset();
    probe.errno_name.reset();
    if (status != FeatureStatus::Supported) {
        probe.errnum = errnum;
        probe.errno_name = errno_name(errnum);
    }
}

// libbpf's probes answer 1 (supported), 0 (not) or -errno (could not tell).
// On 0 libbpf leaves errno as the failed load or map creation set it: that
// raw errno is kept (EPERM without privileges, EINVAL for an unknown type...).
FeatureAnswer libbpf_answer(int ret, int errno_after) {
    if (ret > 0) {
        return answer(FeatureStatus::Supported, 0);
    }
    if (ret == 0) {
        return answer(FeatureStatus::Unsupported, errno_after);
    }
    return answer(FeatureStatus::Error, -ret);
}

// libbpf's answer for every type it has a name for (names end where libbpf's
// table ends), keyed by that name.
template <typename Type>
NamedList<FeatureAnswer> probe_each(const char* (*name_of)(Type), int (*probe)(Type, const void*)) {
    NamedList<FeatureAnswer> out;
    for (int t = 1;; ++t) {
        const char* name = name_of(static_cast<Type>(t));
        if (!name) {
            break;
        }
        errno = 0;
        int ret = probe(static_cast<Type>(t), nullptr);
        out.emplace_back(name, libbpf_answer(ret, errno));
    }
    return out;
}

struct HelperProbe {
    const char* name;
    bpf_func_id id;
};

constexpr HelperProbe kHelpers[] = {
    {"bpf_ringbuf_output", BPF_FUNC_ringbuf_output},
    {"bpf_perf_event_output", BPF_FUNC_perf_event_output},
    {"bpf_probe_read_kernel", BPF_FUNC_probe_read_kernel},
    {"bpf_probe_read_user", BPF_FUNC_probe_read_user},
    {"bpf_get_current_task_btf", BPF_FUNC_get_current_task_btf},
    {"bpf_loop", BPF_FUNC_loop},
    {"bpf_ktime_get_boot_ns", BPF_FUNC_ktime_get_boot_ns},
    {"bpf_get_func_ip", BPF_FUNC_get_func_ip},
};

constexpr bpf_prog_type kHelperProgTypes[] = {
    BPF_PROG_TYPE_KPROBE,        BPF_PROG_TYPE_TRACEPOINT, BPF_PROG_TYPE_RAW_TRACEPOINT,
    BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_SCHED_CLS,  BPF_PROG_TYPE_XDP,
};

// r0 = 0; exit
constexpr bpf_insn kReturnZero[] = {
    {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
    {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
};

// The verifier's verdict: its last line before the statistics.
std::string last_log_line(const char* log) {
    auto lines = split(log, '\n');
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        std::string t = trim(*it);
        if (!t.empty() && t.rfind("processed ", 0) != 0 && t.rfind("verification time", 0) != 0 &&
            t.rfind("stack depth", 0) != 0) {
            return t.size() > 300 ? t.substr(0, 300) : t;
        }
    }
    return {};
}

struct Loaded {
    int fd = -1;
    int errnum = 0;
    FeatureAnswer stage;
    std::string log; // the verifier log of a failed load
};

Loaded load_probe_program(bpf_prog_type type, bpf_attach_type attach_type, int btf_id,
                          const bpf_insn* insns = kReturnZero,
                          std::size_t insn_count = std::size(kReturnZero)) {
    static char log[16 << 10];
    log[0] = '\0';
    bpf_prog_load_opts opts{};
    opts.sz = sizeof(opts);
    opts.expected_attach_type = attach_type;
    opts.attach_btf_id = btf_id > 0 ? static_cast<__u32>(btf_id) : 0;
    opts.log_buf = log;
    opts.log_size = sizeof(log);
    opts.log_level = 0; // libbpf retries with a log on failure
    if (type == BPF_PROG_TYPE_KPROBE) {
        utsname u{};
        int a = 0;
        int b = 0;
        int c = 0;
        // Only kernels before 5.0 check kern_version; it is not a feature test.
        if (::uname(&u) == 0 && std::sscanf(u.release, "%d.%d.%d", &a, &b, &c) == 3) {
            opts.kern_version = static_cast<__u32>((a << 16) + (b << 8) + (c > 255 ? 255 : c));
        }
    }
    int fd = bpf_prog_load(type, "bpfleet_probe", "GPL", insns, insn_count, &opts);
    int err = fd < 0 ? errno : 0;
    Loaded out;
    out.fd = fd;
    out.errnum = err;
    if (fd >= 0) {
        out.stage = answer(FeatureStatus::Supported, 0);
    } else {
        out.stage = answer(FeatureStatus::Unsupported, err);
        out.log = log;
        std::string line = last_log_line(log);
        if (!line.empty()) {
            out.stage.log = line;
        }
    }
    return out;
}

// libbpf 1.1's libbpf_probe_bpf_helper recognises only the verifier's "unknown
// func" and "invalid func" and otherwise assumes support; newer kernels say
// "program of this type cannot use helper" or "func X not supported for
// program type N". So each helper is also probed
// here with the same two-instruction program (call; exit), and the status is
// decided from the verifier's own words. libbpf's answer is kept beside it.
FeatureAnswer probe_helper(bpf_prog_type type, bpf_func_id id) {
    const bpf_insn insns[] = {
        {BPF_JMP | BPF_CALL, 0, 0, 0, static_cast<__s32>(id)},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    Loaded loaded = load_probe_program(type, bpf_attach_type{}, 0, insns, std::size(insns));
    Fd prog(loaded.fd);
    FeatureAnswer a;
    if (prog.get() >= 0) {
        a = answer(FeatureStatus::Supported, 0);
    } else {
        const std::string& log = loaded.log;
        bool refused = log.find("unknown func ") != std::string::npos ||
                       log.find("invalid func ") != std::string::npos ||
                       log.find("cannot use helper") != std::string::npos ||
                       log.find("not supported for program") != std::string::npos;
        if (refused) {
            a = answer(FeatureStatus::Unsupported, loaded.errnum);
        } else if (log.empty()) {
            // No verifier verdict at all (EPERM, a type the kernel lacks...).
            a = answer(FeatureStatus::Error, loaded.errnum);
        } else {
            // The verifier accepted the call and failed later, on arguments.
            a = answer(FeatureStatus::Supported, 0);
        }
        a.log = loaded.stage.log;
    }
    errno = 0;
    int ret = libbpf_probe_bpf_helper(type, id, nullptr);
    a.libbpf = libbpf_answer(ret, errno).status;
    return a;
}

// Helper probes only mean something where the program type itself loads:
// elsewhere the answer is "skipped" with the program type's errno.
NamedList<NamedList<FeatureAnswer>> helpers(const NamedList<FeatureAnswer>& prog_types) {
    NamedList<NamedList<FeatureAnswer>> out;
    for (const auto& h : kHelpers) {
        NamedList<FeatureAnswer> per_type;
        for (auto type : kHelperProgTypes) {
            const char* type_name = libbpf_bpf_prog_type_str(type);
            const FeatureAnswer* pt = find_named(prog_types, type_name);
            if (pt && pt->status != FeatureStatus::Supported) {
                FeatureAnswer skipped = *pt;
                skipped.status = FeatureStatus::Skipped;
                skipped.reason =
                    std::string("program type ") + type_name + " is not supported here";
                per_type.emplace_back(type_name, std::move(skipped));
                continue;
            }
            per_type.emplace_back(type_name, probe_helper(type, h.id));
        }
        out.emplace_back(h.name, std::move(per_type));
    }
    return out;
}

// One attach mechanism: find the target in vmlinux BTF, load, attach, detach.
// The overall status is "supported" only when the attach succeeded.
AttachProbe probe_btf_attach(bpf_prog_type type, bpf_attach_type attach_type, const char* target) {
    bpf::LibbpfLogCapture capture(16, 4096);
    AttachProbe p;
    p.target = target;
    errno = 0;
    int btf_id = libbpf_find_vmlinux_btf_id(target, attach_type);
    if (btf_id < 0) {
        p.btf_id = std::optional<std::int64_t>();
        set_overall(p, FeatureStatus::Error, -btf_id);
        p.reason = "target not found in vmlinux BTF";
        return p;
    }
    p.btf_id = btf_id;
    Loaded loaded = load_probe_program(type, attach_type, btf_id);
    Fd prog(loaded.fd);
    p.load = loaded.stage;
    if (prog.get() < 0) {
        set_overall(p, FeatureStatus::Unsupported, loaded.errnum);
        p.stage = "load";
        return p;
    }
    // The oldest attach path for trampolines and LSM (5.5+), kept by newer kernels.
    Fd link(bpf_raw_tracepoint_open(nullptr, prog.get()));
    int err = link.get() < 0 ? errno : 0;
    const auto status = link.get() >= 0 ? FeatureStatus::Supported : FeatureStatus::Unsupported;
    p.attach = answer(status, err);
    set_overall(p, status, err);
    if (link.get() < 0) {
        p.stage = "attach";
    }
    return p;
}

// The first candidate that kallsyms lists as a text symbol.
std::optional<std::string> kallsyms_scan(const std::vector<const char*>& candidates) {
    FilePtr f = open_file("/proc/kallsyms", "r");
    if (!f) {
        return std::nullopt;
    }
    std::vector<bool> found(candidates.size(), false);
    char line[512];
    while (std::fgets(line, sizeof(line), f.get())) {
        char type = 0;
        char name[256];
        if (std::sscanf(line, "%*s %c %255s", &type, name) != 2 || (type != 't' && type != 'T')) {
            continue;
        }
        for (std::size_t i = 0; i < candidates.size(); ++i) {
            if (std::strcmp(name, candidates[i]) == 0) {
                found[i] = true;
            }
        }
    }
    f.reset();
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (found[i]) {
            return candidates[i];
        }
    }
    return std::nullopt;
}

const std::vector<const char*> kKprobeTargets = {
    "do_sys_openat2", "do_sys_open", "__x64_sys_getpid", "__arm64_sys_getpid", "vfs_read",
};

// kallsyms is large; read it once per probe run.
const std::optional<std::string>& kprobe_target() {
    static const std::optional<std::string> target = kallsyms_scan(kKprobeTargets);
    return target;
}

// The attach result of a kprobe or kprobe.multi link.
void set_link_result(AttachProbe& p, int link_fd, int err) {
    const auto status = link_fd >= 0 ? FeatureStatus::Supported : FeatureStatus::Unsupported;
    p.attach = answer(status, err);
    set_overall(p, status, err);
    if (link_fd < 0) {
        p.stage = "attach";
    }
}

// A kprobe through the perf kprobe PMU (the path libbpf takes first).
AttachProbe probe_kprobe() {
    AttachProbe p;
    const auto& target = kprobe_target();
    p.target = target;
    int type = pmu_type("kprobe");
    if (type < 0) {
        set_overall(p, FeatureStatus::Unsupported, -type);
        p.stage = "pmu";
        p.reason = "no kprobe PMU in /sys/bus/event_source/devices";
        return p;
    }
    if (!target) {
        set_overall(p, FeatureStatus::Error, ENOENT);
        p.reason = "no candidate symbol in /proc/kallsyms";
        return p;
    }
    Loaded loaded = load_probe_program(BPF_PROG_TYPE_KPROBE, bpf_attach_type{}, 0);
    Fd prog(loaded.fd);
    p.load = loaded.stage;
    if (prog.get() < 0) {
        set_overall(p, FeatureStatus::Unsupported, loaded.errnum);
        p.stage = "load";
        return p;
    }
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = static_cast<__u32>(type);
    attr.config1 = reinterpret_cast<std::uintptr_t>(target->c_str());
    attr.config2 = 0;
    attr.sample_period = 1;
    attr.wakeup_events = 1;
    Fd pfd(
        static_cast<int>(::syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC)));
    if (pfd.get() < 0) {
        int err = errno;
        p.attach = answer(FeatureStatus::Unsupported, err);
        set_overall(p, FeatureStatus::Unsupported, err);
        p.stage = "perf_event_open";
        return p;
    }
    Fd link(bpf_link_create(prog.get(), pfd.get(), BPF_PERF_EVENT, nullptr));
    if (link.get() < 0) {
        // Perf-event links are 5.15+; before, a kprobe is attached by the
        // perf event's ioctl, as libbpf itself falls back to. The program
        // goes when the event's fd is closed.
        const int link_err = errno;
        if (::ioctl(pfd.get(), PERF_EVENT_IOC_SET_BPF, prog.get()) == 0) {
            set_link_result(p, 0, 0);
            p.reason = "bpf_link_create(BPF_PERF_EVENT) refused (" + errno_name(link_err) +
                       ", links for perf events are 5.15+); attached with "
                       "PERF_EVENT_IOC_SET_BPF";
            return p;
        }
        set_link_result(p, -1, errno);
        p.reason = "bpf_link_create(BPF_PERF_EVENT): " + errno_name(link_err) +
                   "; PERF_EVENT_IOC_SET_BPF: " + errno_name(errno);
        return p;
    }
    set_link_result(p, link.get(), 0);
    return p;
}

// kprobe.multi (fprobe over ftrace) on one symbol.
AttachProbe probe_kprobe_multi() {
    AttachProbe p;
    const auto& target = kprobe_target();
    p.target = target;
    if (!target) {
        set_overall(p, FeatureStatus::Error, ENOENT);
        p.reason = "no candidate symbol in /proc/kallsyms";
        return p;
    }
    Loaded loaded = load_probe_program(BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, 0);
    Fd prog(loaded.fd);
    p.load = loaded.stage;
    if (prog.get() < 0) {
        set_overall(p, FeatureStatus::Unsupported, loaded.errnum);
        p.stage = "load";
        return p;
    }
    const char* syms[] = {target->c_str()};
    bpf_link_create_opts opts{};
    opts.sz = sizeof(opts);
    opts.kprobe_multi.syms = syms;
    opts.kprobe_multi.cnt = 1;
    Fd link(bpf_link_create(prog.get(), 0, BPF_TRACE_KPROBE_MULTI, &opts));
    set_link_result(p, link.get(), link.get() < 0 ? errno : 0);
    return p;
}

// fmod_ret is allowed on functions on the error-injection list and on LSM
// hooks (security_*). The selftest function is on that list only where the
// kernel was built with CONFIG_FUNCTION_ERROR_INJECTION (Debian's 5.10 and
// 6.1 amd64 refuse it), so an LSM hook is tried next: a program returning 0
// leaves the hook's answer alone.
AttachProbe probe_fmod_ret() {
    AttachProbe first =
        probe_btf_attach(BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, "bpf_modify_return_test");
    if (first.status == FeatureStatus::Supported) {
        return first;
    }
    AttachProbe second =
        probe_btf_attach(BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, "security_file_open");
    const std::string tried =
        "bpf_modify_return_test: " +
        (first.stage ? "refused at " + *first.stage : first.reason.value_or("refused")) + " (" +
        first.errno_name.value_or("?") + ")";
    second.reason =
        second.reason ? *second.reason + "; first tried " + tried : "first tried " + tried;
    return second;
}

// The BPF LSM can be compiled in (lsm programs load and attach) and still
// not be in the active LSM list, where its programs never run.
void check_bpf_lsm_active(AttachProbe& p) {
    if (p.status != FeatureStatus::Supported) {
        return;
    }
    FilePtr f = open_file("/sys/kernel/security/lsm", "r");
    if (!f) {
        p.reason = "attached; the active LSM list (/sys/kernel/security/lsm) is unreadable, so "
                   "whether lsm programs run is not known";
        return;
    }
    char buf[512] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f.get());
    std::string list(buf, n);
    while (!list.empty() && (list.back() == '\n' || list.back() == ' ')) {
        list.pop_back();
    }
    const std::string padded = "," + list + ",";
    if (padded.find(",bpf,") == std::string::npos) {
        p.status = FeatureStatus::Unsupported;
        p.stage = "active";
        p.reason = "loads and attaches, but bpf is not in the active LSM list (" + list +
                   "): lsm programs never run; add bpf to the lsm= kernel parameter";
    }
}

NamedList<AttachProbe> attach_mechanisms() {
    NamedList<AttachProbe> out;
    // bpf_fentry_test1 and bpf_modify_return_test exist for BPF selftests and
    // run only under BPF_PROG_TEST_RUN: attaching there touches nothing.
    out.emplace_back("fentry",
                     probe_btf_attach(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "bpf_fentry_test1"));
    out.emplace_back("fexit",
                     probe_btf_attach(BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, "bpf_fentry_test1"));
    out.emplace_back("fmod_ret", probe_fmod_ret());
    // A program that returns 0 on sys_enter / file_open changes nothing.
    out.emplace_back("tp_btf",
                     probe_btf_attach(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, "sys_enter"));
    AttachProbe lsm = probe_btf_attach(BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "file_open");
    check_bpf_lsm_active(lsm);
    out.emplace_back("lsm", std::move(lsm));
    out.emplace_back("kprobe", probe_kprobe());
    out.emplace_back("kprobe_multi", probe_kprobe_multi());
    return out;
}

FeatureAnswer enable_stats() {
    Fd fd(bpf_enable_stats(BPF_STATS_RUN_TIME));
    return fd.get() >= 0 ? answer(FeatureStatus::Supported, 0)
                         : answer(FeatureStatus::Unsupported, errno);
}

} // namespace

FeatureFingerprint probe_features() {
    FeatureFingerprint f;
    f.libbpf_version =
        std::to_string(libbpf_major_version()) + "." + std::to_string(libbpf_minor_version());
    f.bpf_enable_stats = enable_stats();
    f.prog_types = probe_each<bpf_prog_type>(libbpf_bpf_prog_type_str, libbpf_probe_bpf_prog_type);
    f.map_types = probe_each<bpf_map_type>(libbpf_bpf_map_type_str, libbpf_probe_bpf_map_type);
    f.helpers = helpers(f.prog_types);
    f.attach = attach_mechanisms();
    return f;
}

} // namespace bpfleet::agent
