#include "lab/vm.hpp"

#include "common/arch.hpp"
#include "common/fd.hpp"
#include "common/subprocess.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <linux/kvm.h>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace bpfleet::lab {
namespace {

// QEMU's option parser splits on commas; a literal one is doubled.
std::string qemu_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        out += c;
        if (c == ',') {
            out += ',';
        }
    }
    return out;
}

std::string slurp(const fs::path& path, std::size_t max = 1u << 20) {
    std::ifstream in(path, std::ios::binary);
    std::string data(max, '\0');
    in.read(data.data(), static_cast<std::streamsize>(max));
    data.resize(static_cast<std::size_t>(in.gcount()));
    return data;
}

// Alive and not a zombie: a daemonized QEMU's parent is init, which may be
// slow to reap (or, in a container, never reap) what it inherited.
bool alive(pid_t pid) {
    if (::kill(pid, 0) != 0 && errno != EPERM) {
        return false;
    }
    std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat", 4096);
    auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

// Waits for fd to be ready for `events` until `deadline`.
bool wait_fd(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n > 0) {
            return true;
        }
        if (n < 0 && errno != EINTR) {
            return false;
        }
    }
}

} // namespace

std::vector<std::string> qemu_command(const LabKernel& kernel, const fs::path& vm_dir, int port,
                                      const QemuSettings& settings) {
    const fs::path dir = fs::absolute(vm_dir);
    std::vector<std::string> argv = {std::string(kernel.qemu),
                                     "-name",
                                     "bpfleet-" + vm_name(kernel),
                                     "-nodefaults",
                                     "-nic",
                                     "none"};
    if (!kernel.machine.empty()) {
        argv.insert(argv.end(), {"-M", std::string(kernel.machine)});
    }
    if (settings.kvm) {
        argv.insert(argv.end(), {"-accel", "kvm", "-cpu", "host"});
    } else {
        argv.insert(argv.end(), {"-accel", "tcg", "-cpu", std::string(kernel.cpu)});
    }
    argv.insert(argv.end(),
                {"-m", std::to_string(settings.memory_mb), "-smp", "1", "-display", "none",
                 "-monitor", "none", "-serial",
                 "file:" + qemu_escape((dir / "console.log").string()), "-no-reboot", "-kernel",
                 (dir / "vmlinuz").string(), "-initrd", (dir / "initrd.img").string(), "-append",
                 "console=" + std::string(kernel.console) + " panic=-1 quiet rdinit=/init",
                 "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:" + std::to_string(port) + "-:22",
                 "-device", "virtio-net-pci,netdev=n0", "-device", "virtio-rng-pci",
                 // Daemonized: the working folder becomes /, hence absolute paths.
                 "-daemonize", "-pidfile", (dir / "qemu.pid").string()});
    return argv;
}

Result<pid_t> start_qemu(const LabKernel& kernel, const fs::path& vm_dir, int port,
                         const QemuSettings& settings) {
    std::error_code ec;
    fs::remove(vm_dir / "qemu.pid", ec);
    fs::remove(vm_dir / "console.log", ec);
    RunOptions options;
    options.timeout = 60s; // QEMU returns once the machine is set up
    options.err_to_out = true;
    Result<RunOutput> run = run_process(qemu_command(kernel, vm_dir, port, settings), options);
    if (!run) {
        return make_error("system",
                          "cannot run " + std::string(kernel.qemu) + ": " + run.error().message,
                          run.error().errnum, vm_name(kernel));
    }
    std::string said = run->out.substr(0, 2000);
    while (!said.empty() && (said.back() == '\n' || said.back() == '\r')) {
        said.pop_back();
    }
    if (run->timed_out || !run->status.success()) {
        const bool port_taken = said.find("hostfwd") != std::string::npos ||
                                said.find("host forwarding") != std::string::npos;
        return make_error(port_taken ? "port_taken" : "qemu",
                          port_taken ? "port " + std::to_string(port) +
                                           " on 127.0.0.1 is taken (QEMU: " + said + ")"
                                     : std::string(kernel.qemu) + " " + run->status.describe() +
                                           (said.empty() ? "" : ": " + said),
                          0, vm_name(kernel));
    }
    if (auto pid = running_qemu(vm_dir)) {
        return *pid;
    }
    return make_error("qemu",
                      std::string(kernel.qemu) + " started but left no running process" +
                          (said.empty() ? "" : " (" + said + ")"),
                      0, vm_name(kernel));
}

std::optional<pid_t> running_qemu(const fs::path& vm_dir) {
    std::string text = slurp(vm_dir / "qemu.pid", 64);
    pid_t pid = 0;
    try {
        pid = static_cast<pid_t>(std::stol(text));
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (pid <= 1 || !alive(pid)) {
        return std::nullopt;
    }
    // The command line names this folder's pid file: the pid is not reused.
    std::string cmdline = slurp("/proc/" + std::to_string(pid) + "/cmdline", 1u << 16);
    const std::string pidfile = (fs::absolute(vm_dir) / "qemu.pid").string();
    if (cmdline.find(std::string("-pidfile") + '\0' + pidfile + '\0') == std::string::npos) {
        return std::nullopt;
    }
    return pid;
}

void stop_qemu(pid_t pid, std::chrono::milliseconds grace) {
    ::kill(pid, SIGTERM);
    auto until = std::chrono::steady_clock::now() + grace;
    while (alive(pid) && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(20ms);
    }
    if (alive(pid)) {
        ::kill(pid, SIGKILL);
        until = std::chrono::steady_clock::now() + 5s;
        while (alive(pid) && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(20ms);
        }
    }
}

bool ssh_answers(int port, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        return false;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno != EINPROGRESS || !wait_fd(fd.get(), POLLOUT, deadline)) {
            return false;
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            return false;
        }
    }
    std::string got;
    while (got.size() < 4 && wait_fd(fd.get(), POLLIN, deadline)) {
        char buf[64];
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                continue;
            }
            return false;
        }
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got.rfind("SSH-", 0) == 0;
}

Result<int> free_port() {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        return make_error("system", "socket failed", errno);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        return make_error("system", "no free port on 127.0.0.1", errno);
    }
    return static_cast<int>(ntohs(addr.sin_port));
}

bool kvm_usable(std::string_view uname_arch) {
    if (uname_arch != machine_arch()) {
        return false;
    }
    Fd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
    return kvm && ::ioctl(kvm.get(), KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
}

std::string console_tail(const fs::path& vm_dir, std::size_t lines) {
    std::error_code ec;
    const auto size = fs::file_size(vm_dir / "console.log", ec);
    if (ec) {
        return "(no console output)";
    }
    constexpr std::uintmax_t kTailBytes = 64u << 10;
    std::ifstream in(vm_dir / "console.log", std::ios::binary);
    if (size > kTailBytes) {
        in.seekg(static_cast<std::streamoff>(size - kTailBytes));
    }
    std::stringstream buf;
    buf << in.rdbuf();
    std::string clean;
    for (char c : buf.str()) {
        if (c == '\n' || c == '\t' || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f)) {
            clean += c;
        }
    }
    std::vector<std::string> all;
    std::istringstream text(clean);
    std::string line;
    while (std::getline(text, line)) {
        all.push_back(line);
    }
    std::string tail;
    for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
        tail += all[i] + "\n";
    }
    return tail.empty() ? "(no console output)" : tail;
}

} // namespace bpfleet::lab
