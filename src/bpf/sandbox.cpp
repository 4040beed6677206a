#include "bpf/sandbox.hpp"

#include "common/file.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <thread>
#include <unistd.h>

namespace bpfleet::bpf {
namespace {

std::string errno_text(int err) {
    return std::strerror(err);
}

bool write_file(const std::string& path, const std::string& text) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(fd);
    return ok;
}

// The calling process's directory in the v2 hierarchy ("0::/path" line).
std::string own_cgroup2_dir(const std::string& mount) {
    auto f = open_file("/proc/self/cgroup", "r");
    if (!f) {
        return mount;
    }
    char line[4096];
    std::string dir = mount;
    while (std::fgets(line, sizeof line, f.get())) {
        if (std::strncmp(line, "0::", 3) == 0) {
            std::string rel = line + 3;
            while (!rel.empty() && (rel.back() == '\n' || rel.back() == ' ')) {
                rel.pop_back();
            }
            dir = mount + (rel == "/" ? "" : rel);
            break;
        }
    }
    return dir;
}

bool remove_dir_retrying(const std::string& path) {
    using namespace std::chrono;
    const auto deadline = steady_clock::now() + seconds(5);
    while (rmdir(path.c_str()) != 0) {
        if (errno == ENOENT) {
            return true;
        }
        if (errno != EBUSY || steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(milliseconds(10));
    }
    return true;
}

bool is_mounted(const char* path, const char* fstype) {
    auto f = open_file("/proc/self/mountinfo", "r");
    if (!f) {
        return false;
    }
    char line[4096];
    bool found = false;
    while (!found && std::fgets(line, sizeof line, f.get())) {
        // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - FSTYPE SOURCE SUPER"
        char mountpoint[1024];
        if (std::sscanf(line, "%*s %*s %*s %*s %1023s", mountpoint) != 1) {
            continue;
        }
        const char* dash = std::strstr(line, " - ");
        char type[64];
        if (dash && std::sscanf(dash + 3, "%63s", type) == 1 && std::strcmp(type, fstype) == 0 &&
            std::strcmp(mountpoint, path) == 0) {
            found = true;
        }
    }
    return found;
}

} // namespace

std::string find_cgroup2_mount() {
    auto f = open_file("/proc/self/mountinfo", "r");
    if (!f) {
        return {};
    }
    char line[4096];
    std::string best;
    while (std::fgets(line, sizeof line, f.get())) {
        char mountpoint[1024];
        const char* dash = std::strstr(line, " - ");
        char type[64];
        if (dash && std::sscanf(dash + 3, "%63s", type) == 1 && std::strcmp(type, "cgroup2") == 0 &&
            std::sscanf(line, "%*s %*s %*s %*s %1023s", mountpoint) == 1) {
            // Prefer the canonical locations over private mounts of ours.
            if (best.empty() || std::strcmp(mountpoint, "/sys/fs/cgroup") == 0) {
                best = mountpoint;
            }
        }
    }
    return best;
}

Result<ScratchCgroup> ScratchCgroup::create() {
    std::string mount = find_cgroup2_mount();
    std::string private_mount;
    if (mount.empty()) {
        // A pure cgroup v1 host: BPF cgroup programs still attach to the v2
        // hierarchy, which can be mounted alongside v1 without controllers.
        char dir[] = "/tmp/bpfleet-cgroup2.XXXXXX";
        if (!mkdtemp(dir)) {
            int err = errno;
            return make_error("sandbox", "mkdtemp: " + errno_text(err), err);
        }
        if (::mount("cgroup2", dir, "cgroup2", 0, nullptr) != 0) {
            int err = errno;
            rmdir(dir);
            return make_error(
                "sandbox", "no cgroup2 hierarchy and mounting one failed: " + errno_text(err), err);
        }
        mount = private_mount = dir;
    }
    static std::atomic<unsigned> counter{0};
    std::string path =
        mount + "/bpfleet-check." + std::to_string(getpid()) + "." + std::to_string(counter++);
    if (mkdir(path.c_str(), 0700) != 0) {
        int err = errno;
        remove_scratch_cgroup({}, private_mount);
        return make_error("sandbox", "cannot create a scratch cgroup: " + errno_text(err), err,
                          path);
    }
    return ScratchCgroup(path, own_cgroup2_dir(mount), private_mount);
}

void remove_scratch_cgroup(const std::string& dir, const std::string& private_mount) {
    if (!dir.empty()) {
        remove_dir_retrying(dir);
    }
    if (!private_mount.empty()) {
        umount2(private_mount.c_str(), MNT_DETACH);
        rmdir(private_mount.c_str());
    }
}

ScratchCgroup::ScratchCgroup(ScratchCgroup&& other) noexcept
    : m_path(std::move(other.m_path)), m_home(std::move(other.m_home)),
      m_private_mount(std::move(other.m_private_mount)) {
    other.m_path.clear();
    other.m_private_mount.clear();
}

ScratchCgroup::~ScratchCgroup() {
    remove();
}

void ScratchCgroup::remove() {
    remove_scratch_cgroup(m_path, m_private_mount);
    m_path.clear();
    m_private_mount.clear();
}

Result<void> ScratchCgroup::join() const {
    if (!write_file(m_path + "/cgroup.procs", "0")) {
        int err = errno;
        return make_error("sandbox", "cannot join the scratch cgroup: " + errno_text(err), err,
                          m_path);
    }
    return {};
}

Result<void> ScratchCgroup::leave() const {
    if (!write_file(m_home + "/cgroup.procs", "0")) {
        int err = errno;
        return make_error("sandbox", "cannot leave the scratch cgroup: " + errno_text(err), err,
                          m_home);
    }
    return {};
}

Result<CgroupReaper> CgroupReaper::start(const ScratchCgroup& cgroup) {
    // The forked child reads these from its copy of this process's memory.
    const std::string& cgroup_dir = cgroup.path();
    const std::string& private_mount = cgroup.private_mount();
    auto pipe = make_pipe();
    if (!pipe) {
        return make_error("sandbox", pipe.error().message, pipe.error().errnum);
    }
    const int wait_fd = pipe->read.get();
    // Outlives the starter: its own session, no stdio, and of all descriptors
    // only the pipe's read end, so that nothing but the starter's exit ends it.
    auto reaper = Process::fork_call(
        [&] {
            char c;
            ssize_t n;
            do {
                n = read(wait_fd, &c, 1);
            } while (n < 0 && errno == EINTR);
            remove_scratch_cgroup(cgroup_dir, private_mount);
            return 0;
        },
        {.in = Stdio::null(),
         .out = Stdio::null(),
         .err = Stdio::null(),
         .new_session = true,
         .close_other_fds = true,
         .keep_fds = {wait_fd}});
    if (!reaper) {
        return make_error("sandbox", reaper.error().message, reaper.error().errnum);
    }
    return CgroupReaper(std::move(pipe->write), std::move(*reaper));
}

CgroupReaper::~CgroupReaper() {
    m_pipe.reset();
    if (m_process.running()) {
        m_process.wait();
    }
}

Result<void> enter_private_mount_namespace() {
    if (unshare(CLONE_NEWNS) != 0) {
        int err = errno;
        return make_error("sandbox", "unshare(CLONE_NEWNS): " + errno_text(err), err);
    }
    if (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        int err = errno;
        return make_error("sandbox", "making mounts private: " + errno_text(err), err);
    }
    return {};
}

Result<void> hide_kernel_btf() {
    if (mount("none", "/sys/kernel/btf", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=4k") != 0) {
        const int err = errno;
        return make_error("sandbox", "hiding /sys/kernel/btf: " + errno_text(err), err);
    }
    // libbpf 1.x tries these after /sys/kernel/btf/vmlinux; /dev/null is no
    // ELF, so it moves on to the next and finally reports no kernel BTF.
    utsname u{};
    uname(&u);
    const std::string release = u.release;
    for (const std::string& path :
         {"/boot/vmlinux-" + release, "/lib/modules/" + release + "/vmlinux-" + release,
          "/lib/modules/" + release + "/build/vmlinux",
          "/usr/lib/modules/" + release + "/kernel/vmlinux",
          "/usr/lib/debug/boot/vmlinux-" + release,
          "/usr/lib/debug/boot/vmlinux-" + release + ".debug",
          "/usr/lib/debug/lib/modules/" + release + "/vmlinux"}) {
        if (access(path.c_str(), F_OK) == 0 &&
            mount("/dev/null", path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
            const int err = errno;
            return make_error("sandbox", "hiding " + path + ": " + errno_text(err), err);
        }
    }
    return {};
}

Result<NamespaceInfo> enter_private_namespaces() {
    NamespaceInfo info;
    if (unshare(CLONE_NEWNET) != 0) {
        int err = errno;
        return make_error("sandbox", "unshare(CLONE_NEWNET): " + errno_text(err), err);
    }
    TRY(enter_private_mount_namespace());

    // libbpf finds tracepoint ids under tracefs; mount it here if the host has
    // not: the mount lives and dies with this namespace.
    struct stat st {};
    const bool have_events = stat("/sys/kernel/tracing/events", &st) == 0 ||
                             stat("/sys/kernel/debug/tracing/events", &st) == 0;
    if (!have_events && !is_mounted("/sys/kernel/tracing", "tracefs")) {
        if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) == 0) {
            info.tracefs_mounted_by_us = true;
        }
    }

    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        int err = errno;
        return make_error("sandbox", "socket: " + errno_text(err), err);
    }
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    int rc = ioctl(sock, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
        rc = ioctl(sock, SIOCSIFFLAGS, &ifr);
    }
    int err = errno;
    close(sock);
    if (rc != 0) {
        return make_error("sandbox", "bringing up lo in the sandbox: " + errno_text(err), err);
    }
    info.lo_ifindex = static_cast<int>(if_nametoindex("lo"));
    return info;
}

} // namespace bpfleet::bpf
