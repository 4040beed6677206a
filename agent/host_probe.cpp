// The host-facts half of the probe: identity, OS and board, privileges and
// security, sysctls, kernel BTF, PMUs, filesystems and cgroups, read from
// files under /proc and /sys and from uname(2) and sysconf(3).

#include "host_probe.hpp"

#include "identity.hpp"
#include "proc_files.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace bpfleet::agent {
namespace {

std::optional<std::string> text_fact(const std::string& path, Unreadable& unreadable) {
    auto text = read_file(path, &unreadable);
    if (!text) {
        return std::nullopt;
    }
    return trim(*text);
}

// The integer the file holds, its raw text when it is not an integer.
SysctlValue int_fact(const std::string& path, Unreadable& unreadable) {
    auto text = read_file(path, &unreadable);
    if (!text) {
        return {};
    }
    std::string t = trim(*text);
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(t.c_str(), &end, 10);
    if (t.empty() || errno != 0 || *end != '\0') {
        return t; // not a number: keep the raw text
    }
    return static_cast<std::int64_t>(v);
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

OsFacts os_release(Unreadable& unreadable) {
    OsFacts os;
    for (const char* path : {"/etc/os-release", "/usr/lib/os-release"}) {
        auto text = read_file(path, &unreadable);
        if (!text) {
            continue;
        }
        os.source = path;
        for (const auto& line : split(*text, '\n')) {
            auto eq = line.find('=');
            if (eq == std::string::npos || line[0] == '#') {
                continue;
            }
            std::string key = trim(line.substr(0, eq));
            std::string value = unquote_os_release(trim(line.substr(eq + 1)));
            if (key == "ID") {
                os.id = value;
            } else if (key == "VERSION_ID") {
                os.version_id = value;
            } else if (key == "PRETTY_NAME") {
                os.pretty_name = value;
            }
        }
        break;
    }
    return os;
}

// --- board ------------------------------------------------------------------

BoardFacts board(Unreadable& unreadable) {
    BoardFacts b;
    b.model = text_fact("/proc/device-tree/model", unreadable);
    if (auto text = read_file("/sys/firmware/devicetree/base/compatible", &unreadable)) {
        b.compatible = split(*text, '\0');
    }
    b.dmi.sys_vendor = text_fact("/sys/class/dmi/id/sys_vendor", unreadable);
    b.dmi.product_name = text_fact("/sys/class/dmi/id/product_name", unreadable);
    return b;
}

MemoryFacts memory(Unreadable& unreadable) {
    MemoryFacts m;
    if (auto text = read_file("/proc/meminfo", &unreadable)) {
        for (const auto& line : split(*text, '\n')) {
            unsigned long long kib = 0;
            if (std::sscanf(line.c_str(), "MemTotal: %llu kB", &kib) == 1) {
                m.total_bytes = static_cast<std::int64_t>(kib * 1024);
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

PrivilegeFacts privileges(Unreadable& unreadable) {
    PrivilegeFacts p;
    p.euid = static_cast<std::int64_t>(::geteuid());
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
    auto has = [&](int cap) -> std::optional<bool> {
        if (!eff) {
            return std::nullopt;
        }
        return ((*eff >> cap) & 1ULL) != 0;
    };
    if (eff) {
        p.cap_eff = eff_text;
    }
    p.cap_sys_admin = has(kCapSysAdmin);
    p.cap_bpf = has(kCapBpf);
    p.cap_perfmon = has(kCapPerfmon);
    p.cap_net_admin = has(kCapNetAdmin);
    p.privileged = eff && (((*eff >> kCapSysAdmin) & 1ULL) ||
                           (((*eff >> kCapBpf) & 1ULL) && ((*eff >> kCapPerfmon) & 1ULL)));
    return p;
}

// --- security ---------------------------------------------------------------

SecurityFacts security(Unreadable& unreadable) {
    SecurityFacts s;
    // "[none] integrity confidentiality": the bracketed word is the mode.
    if (auto text = read_file("/sys/kernel/security/lockdown", &unreadable)) {
        auto open = text->find('[');
        auto close = text->find(']', open == std::string::npos ? 0 : open);
        s.lockdown = (open != std::string::npos && close != std::string::npos)
                         ? text->substr(open + 1, close - open - 1)
                         : trim(*text);
    }
    if (auto text = read_file("/sys/kernel/security/lsm", &unreadable)) {
        s.lsm = split(trim(*text), ',');
    }
    return s;
}

SysctlFacts sysctls(Unreadable& unreadable) {
    SysctlFacts s;
    s.bpf_jit_enable = int_fact("/proc/sys/net/core/bpf_jit_enable", unreadable);
    s.bpf_jit_harden = int_fact("/proc/sys/net/core/bpf_jit_harden", unreadable);
    s.bpf_jit_kallsyms = int_fact("/proc/sys/net/core/bpf_jit_kallsyms", unreadable);
    s.unprivileged_bpf_disabled =
        int_fact("/proc/sys/kernel/unprivileged_bpf_disabled", unreadable);
    s.bpf_stats_enabled = int_fact("/proc/sys/kernel/bpf_stats_enabled", unreadable);
    s.perf_event_paranoid = int_fact("/proc/sys/kernel/perf_event_paranoid", unreadable);
    s.kptr_restrict = int_fact("/proc/sys/kernel/kptr_restrict", unreadable);
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

FilesystemFacts filesystem(const char* type, const std::vector<Mount>& all,
                           const std::string& proc_fs) {
    FilesystemFacts fs;
    for (const auto& m : all) {
        if (m.type == type) {
            fs.mounts.push_back(m.path);
        }
    }
    for (const auto& line : split(proc_fs, '\n')) {
        auto f = split(line, '\t');
        if (!f.empty() && f.back() == type) {
            fs.supported = true;
        }
    }
    return fs;
}

CgroupFacts cgroup_layout(const std::vector<Mount>& all) {
    CgroupFacts c;
    for (const auto& m : all) {
        if (m.type == "cgroup2" && !c.unified) {
            c.unified = m.path;
        } else if (m.type == "cgroup") {
            c.v1.push_back(CgroupV1Hierarchy{m.path, m.options, Json::object()});
        }
    }
    if (c.unified && !c.v1.empty()) {
        c.layout = "hybrid";
    } else if (c.unified) {
        c.layout = "v2";
    } else if (!c.v1.empty()) {
        c.layout = "v1";
    }
    return c;
}

// --- BTF and PMUs -------------------------------------------------------------

BtfFacts btf_facts() {
    BtfFacts b;
    struct stat st {};
    b.vmlinux = ::stat("/sys/kernel/btf/vmlinux", &st) == 0;
    if (b.vmlinux) {
        b.vmlinux_bytes = static_cast<std::int64_t>(st.st_size);
    }
    if (DIR* d = ::opendir("/sys/kernel/btf")) {
        std::int64_t modules = 0;
        while (dirent* e = ::readdir(d)) {
            if (e->d_name[0] != '.' && std::strcmp(e->d_name, "vmlinux") != 0) {
                ++modules;
            }
        }
        ::closedir(d);
        b.modules = modules;
    }
    return b;
}

PmuFacts pmu_facts() {
    PmuFacts p;
    if (int type = pmu_type("kprobe"); type >= 0) {
        p.kprobe = type;
    }
    if (int type = pmu_type("uprobe"); type >= 0) {
        p.uprobe = type;
    }
    p.kprobe_events = path_exists("/sys/kernel/tracing/kprobe_events") ||
                      path_exists("/sys/kernel/debug/tracing/kprobe_events");
    p.uprobe_events = path_exists("/sys/kernel/tracing/uprobe_events") ||
                      path_exists("/sys/kernel/debug/tracing/uprobe_events");
    return p;
}

} // namespace

HostFacts probe_host_facts() {
    Unreadable unreadable;
    HostFacts facts;
    const AgentInfo info = agent_info();
    facts.agent.version = info.version;
    facts.agent.libbpf_version = info.libbpf_version;
    facts.agent.arch = info.arch;
    facts.agent.build_id = build_id();

    utsname u{};
    if (::uname(&u) == 0) {
        facts.arch = u.machine;
        facts.kernel.release = u.release;
        facts.kernel.version = u.version;
        facts.hostname = u.nodename;
    }
    facts.os = os_release(unreadable);
    facts.board = board(unreadable);
    facts.cpus.online = ::sysconf(_SC_NPROCESSORS_ONLN);
    facts.cpus.configured = ::sysconf(_SC_NPROCESSORS_CONF);
    facts.memory = memory(unreadable);
    facts.privileges = privileges(unreadable);
    facts.security = security(unreadable);
    facts.sysctl = sysctls(unreadable);
    facts.btf = btf_facts();
    facts.pmu = pmu_facts();

    const auto all_mounts = mounts(unreadable);
    const std::string proc_fs = read_file("/proc/filesystems", &unreadable).value_or("");
    facts.filesystems.tracefs = filesystem("tracefs", all_mounts, proc_fs);
    facts.filesystems.debugfs = filesystem("debugfs", all_mounts, proc_fs);
    facts.filesystems.bpffs = filesystem("bpf", all_mounts, proc_fs);
    facts.cgroup = cgroup_layout(all_mounts);
    facts.unreadable = unreadable.take();
    return facts;
}

} // namespace bpfleet::agent
