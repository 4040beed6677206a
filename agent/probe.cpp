// Host facts and BPF feature fingerprint (bpfleet.probe/v1). Files are read
// with open/read (no iostreams: the static agent must stay small).

#include "probe.hpp"

#include "bpf/libbpf_log.hpp"
#include "commands.hpp"
#include "common/file.hpp"
#include "identity.hpp"
#include "output.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <iterator>
#include <linux/perf_event.h>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace bpfleet::agent {
namespace {

constexpr std::size_t kMaxFactFile = 256 << 10;

// Paths that could not be read, with the errno: the document's "unreadable".
class Unreadable {
public:
    void note(const std::string& path, int errnum) { m_map[path] = errno_name(errnum); }
    Json take() { return std::move(m_map); }

private:
    Json m_map = Json::object();
};

std::optional<std::string> read_file(const std::string& path, Unreadable* unreadable,
                                     std::size_t max = kMaxFactFile) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (unreadable) {
            unreadable->note(path, errno);
        }
        return std::nullopt;
    }
    std::string out;
    char buf[4096];
    while (out.size() < max) {
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int err = errno;
            ::close(fd);
            if (unreadable) {
                unreadable->note(path, err);
            }
            return std::nullopt;
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    if (out.size() > max) {
        out.resize(max);
    }
    return out;
}

std::string trim(std::string s) {
    const char* ws = " \t\r\n";
    // Device-tree strings end in NUL; treat it as trailing whitespace.
    while (!s.empty() && (s.back() == '\0' || std::strchr(ws, s.back()))) {
        s.pop_back();
    }
    std::size_t start = s.find_first_not_of(ws);
    return start == std::string::npos ? std::string() : s.substr(start);
}

Json text_fact(const std::string& path, Unreadable& unreadable) {
    auto text = read_file(path, &unreadable);
    if (!text) {
        return nullptr;
    }
    return trim(*text);
}

std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find(sep, start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        if (end > start) {
            parts.emplace_back(text.substr(start, end - start));
        }
        start = end + 1;
    }
    return parts;
}

bool path_exists(const char* path) {
    struct stat st {};
    return ::stat(path, &st) == 0;
}

Json int_fact(const std::string& path, Unreadable& unreadable) {
    auto text = read_file(path, &unreadable);
    if (!text) {
        return nullptr;
    }
    std::string t = trim(*text);
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(t.c_str(), &end, 10);
    if (t.empty() || errno != 0 || *end != '\0') {
        return t; // not a number: keep the raw text
    }
    return v;
}

// --- os-release -------------------------------------------------------------

std::string unquote_os_release(std::string v) {
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
        char q = v.front();
        std::string out;
        for (std::size_t i = 1; i + 1 < v.size(); ++i) {
            if (q == '"' && v[i] == '\\' && i + 2 < v.size()) {
                ++i;
            }
            out.push_back(v[i]);
        }
        return out;
    }
    return v;
}

Json os_release(Unreadable& unreadable) {
    Json os{
        {"id", nullptr}, {"version_id", nullptr}, {"pretty_name", nullptr}, {"source", nullptr}};
    for (const char* path : {"/etc/os-release", "/usr/lib/os-release"}) {
        auto text = read_file(path, &unreadable);
        if (!text) {
            continue;
        }
        os["source"] = path;
        for (const auto& line : split(*text, '\n')) {
            auto eq = line.find('=');
            if (eq == std::string::npos || line[0] == '#') {
                continue;
            }
            std::string key = trim(line.substr(0, eq));
            std::string value = unquote_os_release(trim(line.substr(eq + 1)));
            if (key == "ID") {
                os["id"] = value;
            } else if (key == "VERSION_ID") {
                os["version_id"] = value;
            } else if (key == "PRETTY_NAME") {
                os["pretty_name"] = value;
            }
        }
        break;
    }
    return os;
}

// --- board ------------------------------------------------------------------

Json board(Unreadable& unreadable) {
    Json b;
    b["model"] = text_fact("/proc/device-tree/model", unreadable);
    Json compatible = nullptr;
    if (auto text = read_file("/sys/firmware/devicetree/base/compatible", &unreadable)) {
        compatible = Json::array();
        for (auto& c : split(*text, '\0')) {
            compatible.push_back(c);
        }
    }
    b["compatible"] = compatible;
    b["dmi"] = Json{{"sys_vendor", text_fact("/sys/class/dmi/id/sys_vendor", unreadable)},
                    {"product_name", text_fact("/sys/class/dmi/id/product_name", unreadable)}};
    return b;
}

Json memory(Unreadable& unreadable) {
    Json m{{"total_bytes", nullptr}};
    if (auto text = read_file("/proc/meminfo", &unreadable)) {
        for (const auto& line : split(*text, '\n')) {
            unsigned long long kib = 0;
            if (std::sscanf(line.c_str(), "MemTotal: %llu kB", &kib) == 1) {
                m["total_bytes"] = kib * 1024;
                break;
            }
        }
    }
    return m;
}

// --- privileges ---------------------------------------------------------------

constexpr int kCapNetAdmin = 12;
constexpr int kCapSysAdmin = 21;
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

Json privileges(Unreadable& unreadable) {
    Json p;
    p["euid"] = static_cast<long long>(::geteuid());
    std::optional<unsigned long long> eff;
    std::string eff_text;
    if (auto text = read_file("/proc/self/status", &unreadable)) {
        for (const auto& line : split(*text, '\n')) {
            if (line.rfind("CapEff:", 0) == 0) {
                eff_text = trim(line.substr(7));
                eff = std::strtoull(eff_text.c_str(), nullptr, 16);
            }
        }
    }
    auto has = [&](int cap) -> Json {
        if (!eff) {
            return nullptr;
        }
        return ((*eff >> cap) & 1ULL) != 0;
    };
    p["cap_eff"] = eff ? Json(eff_text) : Json(nullptr);
    p["cap_sys_admin"] = has(kCapSysAdmin);
    p["cap_bpf"] = has(kCapBpf);
    p["cap_perfmon"] = has(kCapPerfmon);
    p["cap_net_admin"] = has(kCapNetAdmin);
    bool privileged = eff && (((*eff >> kCapSysAdmin) & 1ULL) ||
                              (((*eff >> kCapBpf) & 1ULL) && ((*eff >> kCapPerfmon) & 1ULL)));
    p["privileged"] = privileged;
    return p;
}

// --- security ---------------------------------------------------------------

Json security(Unreadable& unreadable) {
    Json s;
    // "[none] integrity confidentiality": the bracketed word is the mode.
    Json lockdown = nullptr;
    if (auto text = read_file("/sys/kernel/security/lockdown", &unreadable)) {
        auto open = text->find('[');
        auto close = text->find(']', open == std::string::npos ? 0 : open);
        lockdown = (open != std::string::npos && close != std::string::npos)
                       ? Json(text->substr(open + 1, close - open - 1))
                       : Json(trim(*text));
    }
    s["lockdown"] = lockdown;
    Json lsm = nullptr;
    if (auto text = read_file("/sys/kernel/security/lsm", &unreadable)) {
        lsm = Json::array();
        for (auto& name : split(trim(*text), ',')) {
            lsm.push_back(name);
        }
    }
    s["lsm"] = lsm;
    return s;
}

// --- mounts -----------------------------------------------------------------

struct Mount {
    std::string path;
    std::string type;
    std::string options;
};

// /proc/mounts escapes space, tab, newline and backslash as \ooo.
std::string unescape_mount(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3') {
            out.push_back(static_cast<char>(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) |
                                            (s[i + 3] - '0')));
            i += 3;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::vector<Mount> mounts(Unreadable& unreadable) {
    std::vector<Mount> out;
    auto text = read_file("/proc/self/mounts", &unreadable, 4 << 20);
    if (!text) {
        return out;
    }
    for (const auto& line : split(*text, '\n')) {
        auto f = split(line, ' ');
        if (f.size() >= 4) {
            out.push_back(Mount{unescape_mount(f[1]), f[2], f[3]});
        }
    }
    return out;
}

Json filesystem(const char* type, const std::vector<Mount>& all, const std::string& proc_fs) {
    Json paths = Json::array();
    for (const auto& m : all) {
        if (m.type == type) {
            paths.push_back(m.path);
        }
    }
    bool supported = false;
    for (const auto& line : split(proc_fs, '\n')) {
        auto f = split(line, '\t');
        if (!f.empty() && f.back() == type) {
            supported = true;
        }
    }
    return Json{{"supported", supported}, {"mounts", std::move(paths)}};
}

Json cgroup_layout(const std::vector<Mount>& all) {
    Json v1 = Json::array();
    Json unified = nullptr;
    for (const auto& m : all) {
        if (m.type == "cgroup2" && unified.is_null()) {
            unified = m.path;
        } else if (m.type == "cgroup") {
            v1.push_back(Json{{"path", m.path}, {"options", m.options}});
        }
    }
    const char* layout = "none";
    if (!unified.is_null() && !v1.empty()) {
        layout = "hybrid";
    } else if (!unified.is_null()) {
        layout = "v2";
    } else if (!v1.empty()) {
        layout = "v1";
    }
    return Json{{"layout", layout}, {"unified", unified}, {"v1", std::move(v1)}};
}

// --- BTF and PMUs -------------------------------------------------------------

Json btf_facts() {
    Json b;
    struct stat st {};
    bool vmlinux = ::stat("/sys/kernel/btf/vmlinux", &st) == 0;
    b["vmlinux"] = vmlinux;
    b["vmlinux_bytes"] = vmlinux ? Json(static_cast<long long>(st.st_size)) : Json(nullptr);
    long long modules = 0;
    if (DIR* d = ::opendir("/sys/kernel/btf")) {
        while (dirent* e = ::readdir(d)) {
            if (e->d_name[0] != '.' && std::strcmp(e->d_name, "vmlinux") != 0) {
                ++modules;
            }
        }
        ::closedir(d);
        b["modules"] = modules;
    } else {
        b["modules"] = nullptr;
    }
    return b;
}

// The dynamic PMU type number for perf_event_open, or -errno.
int pmu_type(const char* name) {
    std::string path = std::string("/sys/bus/event_source/devices/") + name + "/type";
    auto text = read_file(path, nullptr);
    if (!text) {
        return -errno;
    }
    return std::atoi(text->c_str());
}

Json pmu_facts() {
    Json p;
    for (const char* name : {"kprobe", "uprobe"}) {
        int type = pmu_type(name);
        p[name] = type >= 0 ? Json(type) : Json(nullptr);
    }
    p["kprobe_events"] = path_exists("/sys/kernel/tracing/kprobe_events") ||
                         path_exists("/sys/kernel/debug/tracing/kprobe_events");
    p["uprobe_events"] = path_exists("/sys/kernel/tracing/uprobe_events") ||
                         path_exists("/sys/kernel/debug/tracing/uprobe_events");
    return p;
}

// --- feature probes -----------------------------------------------------------

// {"status": "supported"} or {"status": "unsupported"|"error", "errno", "errno_name"}.
Json status(const char* what, int errnum) {
    Json j{{"status", what}};
    if (std::strcmp(what, "supported") != 0) {
        j["errno"] = errnum;
        j["errno_name"] = errno_name(errnum);
    }
    return j;
}

// libbpf's probes answer 1 (supported), 0 (not) or -errno (could not tell).
// On 0 libbpf leaves errno as the failed load or map creation set it: that
// raw errno is kept (EPERM without privileges, EINVAL for an unknown type...).
Json libbpf_answer(int ret, int errno_after) {
    if (ret > 0) {
        return status("supported", 0);
    }
    if (ret == 0) {
        return status("unsupported", errno_after);
    }
    return status("error", -ret);
}

// libbpf's answer for every type it has a name for (names end where libbpf's
// table ends), keyed by that name.
template <typename Type>
Json probe_each(const char* (*name_of)(Type), int (*probe)(Type, const void*)) {
    Json out = Json::object();
    for (int t = 1;; ++t) {
        const char* name = name_of(static_cast<Type>(t));
        if (!name) {
            break;
        }
        errno = 0;
        int ret = probe(static_cast<Type>(t), nullptr);
        out[name] = libbpf_answer(ret, errno);
    }
    return out;
}

Json prog_types() {
    return probe_each<bpf_prog_type>(libbpf_bpf_prog_type_str, libbpf_probe_bpf_prog_type);
}

Json map_types() {
    return probe_each<bpf_map_type>(libbpf_bpf_map_type_str, libbpf_probe_bpf_map_type);
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

class Fd {
public:
    explicit Fd(int fd = -1) : m_fd(fd) {}
    ~Fd() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }

private:
    int m_fd;
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
    Json stage;
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
    if (fd >= 0) {
        out.stage = status("supported", 0);
    } else {
        out.stage = status("unsupported", err);
        out.log = log;
        std::string line = last_log_line(log);
        if (!line.empty()) {
            out.stage["log"] = line;
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
Json probe_helper(bpf_prog_type type, bpf_func_id id) {
    const bpf_insn insns[] = {
        {BPF_JMP | BPF_CALL, 0, 0, 0, static_cast<__s32>(id)},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    Loaded loaded = load_probe_program(type, bpf_attach_type{}, 0, insns, std::size(insns));
    Fd prog(loaded.fd);
    Json j;
    if (prog.get() >= 0) {
        j = status("supported", 0);
    } else {
        int err = loaded.stage.at("errno").get<int>();
        const std::string& log = loaded.log;
        bool refused = log.find("unknown func ") != std::string::npos ||
                       log.find("invalid func ") != std::string::npos ||
                       log.find("cannot use helper") != std::string::npos ||
                       log.find("not supported for program") != std::string::npos;
        if (refused) {
            j = status("unsupported", err);
        } else if (log.empty()) {
            // No verifier verdict at all (EPERM, a type the kernel lacks...).
            j = status("error", err);
        } else {
            // The verifier accepted the call and failed later, on arguments.
            j = status("supported", 0);
        }
        if (loaded.stage.contains("log")) {
            j["log"] = loaded.stage["log"];
        }
    }
    errno = 0;
    int ret = libbpf_probe_bpf_helper(type, id, nullptr);
    j["libbpf"] = libbpf_answer(ret, errno).at("status");
    return j;
}

// Helper probes only mean something where the program type itself loads:
// elsewhere the answer is "skipped" with the program type's errno.
Json helpers(const Json& prog_type_results) {
    Json out = Json::object();
    for (const auto& h : kHelpers) {
        Json per_type = Json::object();
        for (auto type : kHelperProgTypes) {
            const char* type_name = libbpf_bpf_prog_type_str(type);
            const Json& pt = prog_type_results.at(type_name);
            if (pt.at("status") != "supported") {
                Json j = pt;
                j["status"] = "skipped";
                j["reason"] = std::string("program type ") + type_name + " is not supported here";
                per_type[type_name] = std::move(j);
                continue;
            }
            per_type[type_name] = probe_helper(type, h.id);
        }
        out[h.name] = std::move(per_type);
    }
    return out;
}

// One attach mechanism: find the target in vmlinux BTF, load, attach, detach.
// The overall status is "supported" only when the attach succeeded.
Json probe_btf_attach(bpf_prog_type type, bpf_attach_type attach_type, const char* target) {
    bpf::LibbpfLogCapture capture(16, 4096);
    Json j{{"target", target}};
    errno = 0;
    int btf_id = libbpf_find_vmlinux_btf_id(target, attach_type);
    if (btf_id < 0) {
        j["btf_id"] = nullptr;
        j.update(status("error", -btf_id));
        j["reason"] = "target not found in vmlinux BTF";
        return j;
    }
    j["btf_id"] = btf_id;
    Loaded loaded = load_probe_program(type, attach_type, btf_id);
    Fd prog(loaded.fd);
    j["load"] = loaded.stage;
    if (prog.get() < 0) {
        j.update(status("unsupported", loaded.stage.at("errno").get<int>()));
        j["stage"] = "load";
        return j;
    }
    // The oldest attach path for trampolines and LSM (5.5+), kept by newer kernels.
    Fd link(bpf_raw_tracepoint_open(nullptr, prog.get()));
    int err = link.get() < 0 ? errno : 0;
    j["attach"] = link.get() >= 0 ? status("supported", 0) : status("unsupported", err);
    if (link.get() < 0) {
        j.update(status("unsupported", err));
        j["stage"] = "attach";
    } else {
        j.update(status("supported", 0));
    }
    return j;
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

// A kprobe through the perf kprobe PMU (the path libbpf takes first).
Json probe_kprobe() {
    Json j;
    const auto& target = kprobe_target();
    j["target"] = target ? Json(*target) : Json(nullptr);
    int type = pmu_type("kprobe");
    if (type < 0) {
        j.update(status("unsupported", -type));
        j["stage"] = "pmu";
        j["reason"] = "no kprobe PMU in /sys/bus/event_source/devices";
        return j;
    }
    if (!target) {
        j.update(status("error", ENOENT));
        j["reason"] = "no candidate symbol in /proc/kallsyms";
        return j;
    }
    Loaded loaded = load_probe_program(BPF_PROG_TYPE_KPROBE, bpf_attach_type{}, 0);
    Fd prog(loaded.fd);
    j["load"] = loaded.stage;
    if (prog.get() < 0) {
        j.update(status("unsupported", loaded.stage.at("errno").get<int>()));
        j["stage"] = "load";
        return j;
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
        j["attach"] = status("unsupported", err);
        j.update(status("unsupported", err));
        j["stage"] = "perf_event_open";
        return j;
    }
    Fd link(bpf_link_create(prog.get(), pfd.get(), BPF_PERF_EVENT, nullptr));
    int err = link.get() < 0 ? errno : 0;
    j["attach"] = link.get() >= 0 ? status("supported", 0) : status("unsupported", err);
    j.update(link.get() >= 0 ? status("supported", 0) : status("unsupported", err));
    if (link.get() < 0) {
        j["stage"] = "attach";
    }
    return j;
}

// kprobe.multi (fprobe over ftrace) on one symbol.
Json probe_kprobe_multi() {
    Json j;
    const auto& target = kprobe_target();
    j["target"] = target ? Json(*target) : Json(nullptr);
    if (!target) {
        j.update(status("error", ENOENT));
        j["reason"] = "no candidate symbol in /proc/kallsyms";
        return j;
    }
    Loaded loaded = load_probe_program(BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, 0);
    Fd prog(loaded.fd);
    j["load"] = loaded.stage;
    if (prog.get() < 0) {
        j.update(status("unsupported", loaded.stage.at("errno").get<int>()));
        j["stage"] = "load";
        return j;
    }
    const char* syms[] = {target->c_str()};
    bpf_link_create_opts opts{};
    opts.sz = sizeof(opts);
    opts.kprobe_multi.syms = syms;
    opts.kprobe_multi.cnt = 1;
    Fd link(bpf_link_create(prog.get(), 0, BPF_TRACE_KPROBE_MULTI, &opts));
    int err = link.get() < 0 ? errno : 0;
    j["attach"] = link.get() >= 0 ? status("supported", 0) : status("unsupported", err);
    j.update(link.get() >= 0 ? status("supported", 0) : status("unsupported", err));
    if (link.get() < 0) {
        j["stage"] = "attach";
    }
    return j;
}

Json attach_mechanisms() {
    Json out;
    // bpf_fentry_test1 and bpf_modify_return_test exist for BPF selftests and
    // run only under BPF_PROG_TEST_RUN: attaching there touches nothing.
    out["fentry"] = probe_btf_attach(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "bpf_fentry_test1");
    out["fexit"] = probe_btf_attach(BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, "bpf_fentry_test1");
    out["fmod_ret"] =
        probe_btf_attach(BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, "bpf_modify_return_test");
    // A program that returns 0 on sys_enter / file_open changes nothing.
    out["tp_btf"] = probe_btf_attach(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, "sys_enter");
    out["lsm"] = probe_btf_attach(BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "file_open");
    out["kprobe"] = probe_kprobe();
    out["kprobe_multi"] = probe_kprobe_multi();
    return out;
}

Json enable_stats() {
    Fd fd(bpf_enable_stats(BPF_STATS_RUN_TIME));
    return fd.get() >= 0 ? status("supported", 0) : status("unsupported", errno);
}

Json features() {
    Json f;
    f["libbpf_version"] =
        std::to_string(libbpf_major_version()) + "." + std::to_string(libbpf_minor_version());
    f["bpf_enable_stats"] = enable_stats();
    f["prog_types"] = prog_types();
    f["map_types"] = map_types();
    f["helpers"] = helpers(f["prog_types"]);
    f["attach"] = attach_mechanisms();
    return f;
}

} // namespace

Json probe_host(bool with_features) {
    Unreadable unreadable;
    Json doc;
    doc["schema"] = kProbeSchema;
    auto info = agent_info();
    doc["agent"] = Json{{"version", info.version},
                        {"libbpf_version", info.libbpf_version},
                        {"arch", info.arch},
                        {"build_id", build_id()}};

    utsname u{};
    bool have_uname = ::uname(&u) == 0;
    doc["arch"] = have_uname ? Json(u.machine) : Json(nullptr);
    doc["kernel"] = Json{{"release", have_uname ? Json(u.release) : Json(nullptr)},
                         {"version", have_uname ? Json(u.version) : Json(nullptr)}};
    doc["hostname"] = have_uname ? Json(u.nodename) : Json(nullptr);
    doc["os"] = os_release(unreadable);
    doc["board"] = board(unreadable);
    doc["cpus"] = Json{{"online", ::sysconf(_SC_NPROCESSORS_ONLN)},
                       {"configured", ::sysconf(_SC_NPROCESSORS_CONF)}};
    doc["memory"] = memory(unreadable);
    doc["privileges"] = privileges(unreadable);
    doc["security"] = security(unreadable);
    doc["sysctl"] = Json{
        {"bpf_jit_enable", int_fact("/proc/sys/net/core/bpf_jit_enable", unreadable)},
        {"bpf_jit_harden", int_fact("/proc/sys/net/core/bpf_jit_harden", unreadable)},
        {"bpf_jit_kallsyms", int_fact("/proc/sys/net/core/bpf_jit_kallsyms", unreadable)},
        {"unprivileged_bpf_disabled",
         int_fact("/proc/sys/kernel/unprivileged_bpf_disabled", unreadable)},
        {"bpf_stats_enabled", int_fact("/proc/sys/kernel/bpf_stats_enabled", unreadable)},
        {"perf_event_paranoid", int_fact("/proc/sys/kernel/perf_event_paranoid", unreadable)},
        {"kptr_restrict", int_fact("/proc/sys/kernel/kptr_restrict", unreadable)},
    };
    doc["btf"] = btf_facts();
    doc["pmu"] = pmu_facts();

    auto all_mounts = mounts(unreadable);
    std::string proc_fs = read_file("/proc/filesystems", &unreadable).value_or("");
    doc["filesystems"] = Json{{"tracefs", filesystem("tracefs", all_mounts, proc_fs)},
                              {"debugfs", filesystem("debugfs", all_mounts, proc_fs)},
                              {"bpffs", filesystem("bpf", all_mounts, proc_fs)}};
    doc["cgroup"] = cgroup_layout(all_mounts);
    doc["features"] = with_features ? features() : Json(nullptr);
    doc["unreadable"] = unreadable.take();
    return doc;
}

int run_probe(std::span<char*>) {
    write_stdout(probe_host().dump(2) + "\n");
    return kExitOk;
}

} // namespace bpfleet::agent
