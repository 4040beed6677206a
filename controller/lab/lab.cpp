#include "lab/lab.hpp"

#include "common/fd.hpp"
#include "common/subprocess.hpp"
#include "lab/lab_dir.hpp"
#include "lab/vm.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace bpfleet::lab {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitSomeFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_interrupt(int) {
    g_interrupted = 1;
}

// SIGINT and SIGTERM set a flag for the duration of `up` (the loops below
// poll it), and are put back as they were afterwards.
class InterruptGuard {
public:
    InterruptGuard() {
        g_interrupted = 0;
        struct sigaction sa {};
        sa.sa_handler = on_interrupt;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &m_old_int);
        sigaction(SIGTERM, &sa, &m_old_term);
    }
    ~InterruptGuard() {
        sigaction(SIGINT, &m_old_int, nullptr);
        sigaction(SIGTERM, &m_old_term, nullptr);
    }
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

private:
    struct sigaction m_old_int {};
    struct sigaction m_old_term {};
};

void note(const std::string& text) {
    std::fprintf(stderr, "bpfleet lab: %s\n", text.c_str());
}

std::string seconds_text(long ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000.0);
    return buf;
}

long ms_since(Clock::time_point t) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

// The last non-empty lines of a log, indented, for an error message.
std::string tail_lines(const std::string& text, std::size_t lines) {
    std::vector<std::string> all;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty()) {
            all.push_back(line);
        }
    }
    std::string out;
    for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
        out += "    " + all[i].substr(0, 300) + "\n";
    }
    return out;
}

// The kernel's "Kernel panic - not syncing: ..." line, which the stack trace
// after it pushes out of a console tail.
std::string panic_line(const fs::path& vm_dir) {
    const std::string console = read_text(vm_dir / "console.log");
    auto at = console.find("Kernel panic - ");
    if (at == std::string::npos) {
        return {};
    }
    auto end = console.find_first_of("\r\n", at);
    return console.substr(at, std::min<std::size_t>(end - at, 200));
}

bool on_path(std::string_view program) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        if (!dir.empty() && ::access((fs::path(dir) / program).c_str(), X_OK) == 0) {
            return true;
        }
    }
    return false;
}

std::string_view qemu_package(const LabKernel& k) {
    return k.debian_arch == "amd64" ? "qemu-system-x86" : "qemu-system-arm";
}

// One VM on its way up.
struct Boot {
    enum class Phase { Image, Booting, Up, Failed };
    VmRecord vm;
    Phase phase = Phase::Image;
    Process image;
    Clock::time_point image_started{};
    Clock::time_point qemu_started{};
    std::string error;
};

std::vector<std::string> image_command(const UpOptions& options, const fs::path& scripts,
                                       const LabDir& dir, const LabKernel& k) {
    std::vector<std::string> argv = {"bash",
                                     (scripts / "lab-image.sh").string(),
                                     "--cache",
                                     options.cache.string(),
                                     "--arch",
                                     std::string(k.debian_arch),
                                     "--kernel",
                                     std::string(k.package),
                                     "--out",
                                     dir.vm_dir(k).string(),
                                     "--authorized-key",
                                     dir.client_key().string() + ".pub",
                                     "--hostname",
                                     vm_name(k)};
    std::istringstream suites{std::string(k.suites)};
    std::string suite;
    while (suites >> suite) {
        argv.insert(argv.end(), {"--suite", suite});
    }
    return argv;
}

// Stops what this `up` started and forgets it.
void undo(const LabDir& dir, std::vector<Boot>& boots) {
    for (auto& b : boots) {
        if (b.image.running()) {
            b.image.kill(SIGTERM);
            if (!b.image.wait_for(2s)) {
                b.image.kill_and_wait();
            }
        }
        if (b.phase == Boot::Phase::Booting || b.phase == Boot::Phase::Up) {
            if (auto pid = running_qemu(b.vm.dir)) {
                stop_qemu(*pid);
            }
            dir.forget_run(b.vm);
        }
    }
}

// The VMs of the folder that run now (QEMU alive and answering SSH).
std::vector<VmRecord> running_vms(const LabDir& dir) {
    std::vector<VmRecord> up;
    for (auto& vm : dir.load_all()) {
        if (vm.pid && vm.port > 0 && !vm.host_key.empty() && ssh_answers(vm.port, 2s)) {
            up.push_back(std::move(vm));
        }
    }
    return up;
}

void print_table(const std::vector<VmRecord>& vms, const std::vector<std::string>& states) {
    std::printf("%-16s %-32s %-8s %-6s %-7s %-9s %s\n", "VM", "KERNEL", "ARCH", "PORT", "BTF",
                "STATE", "BOOT");
    for (std::size_t i = 0; i < vms.size(); ++i) {
        const auto& vm = vms[i];
        std::string port = vm.port > 0 ? std::to_string(vm.port) : "-";
        std::string boot = vm.boot_ms > 0 ? seconds_text(vm.boot_ms) : "-";
        std::printf("%-16s %-32s %-8s %-6s %-7s %-9s %s\n", vm_name(*vm.kernel).c_str(),
                    vm.release.empty() ? "-" : vm.release.c_str(),
                    std::string(vm.kernel->uname_arch).c_str(), port.c_str(),
                    vm.btf ? "btf" : "no-btf", states[i].c_str(), boot.c_str());
    }
}

int finish_interrupted(const LabDir& dir, std::vector<Boot>& boots) {
    note("interrupted: stopping the VMs this command started");
    undo(dir, boots);
    if (auto wrote = dir.write_inventory(running_vms(dir)); !wrote) {
        note(wrote.error().describe());
    }
    return kExitInterrupted;
}

} // namespace

fs::path find_lab_scripts() {
    std::vector<fs::path> candidates;
    if (const char* env = std::getenv("BPFLEET_LAB_SCRIPTS"); env && *env) {
        candidates.emplace_back(env);
    }
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec).parent_path();
    if (!ec) {
        candidates.push_back(self.parent_path() / "share" / "bpfleet" / "lab");
    }
#ifdef BPFLEET_SOURCE_DIR
    candidates.push_back(fs::path(BPFLEET_SOURCE_DIR) / "scripts" / "lab");
#endif
    for (const auto& dir : candidates) {
        if (::access((dir / "lab-image.sh").c_str(), R_OK) == 0 &&
            ::access((dir / "debian-fetch.sh").c_str(), R_OK) == 0) {
            return dir;
        }
    }
    return {};
}

int lab_up(const UpOptions& options) {
    const fs::path scripts = options.scripts.empty() ? find_lab_scripts() : options.scripts;
    if (scripts.empty()) {
        note("cannot find lab-image.sh (installed in share/bpfleet/lab beside bpfleet, or set "
             "BPFLEET_LAB_SCRIPTS)");
        return kExitUsage;
    }
    auto opened = LabDir::open(options.dir);
    if (!opened) {
        note(opened.error().describe());
        return kExitUsage;
    }
    const LabDir& dir = *opened;
    InterruptGuard guard;
    if (auto key = dir.ensure_client_key(); !key) {
        note(key.error().describe());
        return kExitUsage;
    }

    // VMs already up stay as they are: `up` twice is the same as once.
    std::vector<Boot> boots;
    for (const LabKernel* k : options.kernels) {
        VmRecord vm = dir.load(*k);
        if (vm.pid && vm.port > 0 && ssh_answers(vm.port, 2s)) {
            note(vm_name(*k) + " is already up on port " + std::to_string(vm.port));
            continue;
        }
        if (vm.pid) {
            note(vm_name(*k) + ": its QEMU runs but SSH does not answer; restarting it");
            stop_qemu(*vm.pid);
        }
        dir.forget_run(vm);
        if (!on_path(k->qemu)) {
            note(std::string(k->qemu) + " is not installed (Debian package " +
                 std::string(qemu_package(*k)) + "; scripts/install-deps.sh installs it)");
            return kExitUsage;
        }
        Boot b;
        b.vm = std::move(vm);
        boots.push_back(std::move(b));
    }

    // Kernels and initramfs, all at once: downloads and unpacking overlap.
    for (auto& b : boots) {
        const LabKernel& k = *b.vm.kernel;
        std::error_code ec;
        fs::create_directories(b.vm.dir, ec);
        Fd out(::open((b.vm.dir / "image.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                      0644));
        Fd log(::open((b.vm.dir / "image.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                      0644));
        SpawnOptions spawn;
        spawn.out = Stdio::use(out.get());
        spawn.err = Stdio::use(log.get());
        spawn.new_process_group = true; // an interrupt stops apt-get and dpkg-deb too
        auto started = Process::spawn(image_command(options, scripts, dir, k), spawn);
        if (!started) {
            b.phase = Boot::Phase::Failed;
            b.error = "cannot run lab-image.sh: " + started.error().message;
            continue;
        }
        b.image = std::move(*started);
        b.image_started = Clock::now();
        note(vm_name(k) + ": fetching " + std::string(k.package) + " and building its initramfs");
    }
    for (;;) {
        if (g_interrupted) {
            return finish_interrupted(dir, boots);
        }
        bool waiting = false;
        for (auto& b : boots) {
            if (b.phase != Boot::Phase::Image || !b.image.running()) {
                continue;
            }
            auto status = b.image.try_wait();
            if (!status) {
                waiting = true;
                continue;
            }
            if (status->success()) {
                b.phase = Boot::Phase::Booting;
                b.vm = dir.load(*b.vm.kernel);
                note(vm_name(*b.vm.kernel) + ": " + b.vm.package + " " + b.vm.version + " ready (" +
                     seconds_text(ms_since(b.image_started)) + ")");
            } else {
                b.phase = Boot::Phase::Failed;
                b.error = "could not make its kernel and initramfs (lab-image.sh " +
                          status->describe() + "):\n" +
                          tail_lines(read_text(b.vm.dir / "image.log"), 6) +
                          "    (log: " + (b.vm.dir / "image.log").string() + ")";
            }
        }
        if (!waiting) {
            break;
        }
        std::this_thread::sleep_for(100ms);
    }

    // Boot: each QEMU daemonizes once its machine is set up.
    QemuSettings qemu;
    qemu.memory_mb = options.memory_mb;
    for (std::size_t i = 0; i < boots.size(); ++i) {
        auto& b = boots[i];
        if (b.phase != Boot::Phase::Booting) {
            continue;
        }
        if (g_interrupted) {
            return finish_interrupted(dir, boots);
        }
        const LabKernel& k = *b.vm.kernel;
        qemu.kvm = options.accel == "kvm" || (options.accel == "auto" && kvm_usable(k.uname_arch));
        b.vm.accel = qemu.kvm ? "kvm" : "tcg";
        Result<pid_t> pid = make_error("qemu", "not started");
        for (int attempt = 0; attempt < 5; ++attempt) {
            if (options.base_port > 0) {
                // A fixed port per kernel: its place in the kernel table.
                auto at = std::find_if(lab_kernels().begin(), lab_kernels().end(),
                                       [&](const LabKernel& x) { return &x == &k; });
                b.vm.port = options.base_port + static_cast<int>(at - lab_kernels().begin());
            } else {
                auto port = free_port();
                if (!port) {
                    pid = tl::unexpected(port.error());
                    break;
                }
                b.vm.port = *port;
            }
            b.qemu_started = Clock::now();
            pid = start_qemu(k, b.vm.dir, b.vm.port, qemu);
            // A free port taken by someone else in between: try another.
            if (pid || pid.error().code != "port_taken" || options.base_port > 0) {
                break;
            }
        }
        if (!pid) {
            b.phase = Boot::Phase::Failed;
            b.error = pid.error().message;
            if (pid.error().code == "port_taken") {
                b.error += "; choose another --base-port, or leave it out to use free ports";
            }
            continue;
        }
        b.vm.pid = *pid;
        note(vm_name(k) + ": booting (" + b.vm.accel +
             ", SSH on 127.0.0.1:" + std::to_string(b.vm.port) + ")");
    }

    // Wait for every SSH server at once.
    for (;;) {
        if (g_interrupted) {
            return finish_interrupted(dir, boots);
        }
        bool waiting = false;
        for (auto& b : boots) {
            if (b.phase != Boot::Phase::Booting) {
                continue;
            }
            const std::string name = vm_name(*b.vm.kernel);
            if (!running_qemu(b.vm.dir)) {
                b.phase = Boot::Phase::Failed;
                const std::string panic = panic_line(b.vm.dir);
                b.error =
                    "QEMU ended before SSH answered" +
                    (panic.empty() ? std::string(" (a kernel panic ends it)") : ": " + panic) +
                    ". Console (" + (b.vm.dir / "console.log").string() + "):\n" +
                    tail_lines(console_tail(b.vm.dir, 15), 15);
                dir.forget_run(b.vm);
                continue;
            }
            if (ssh_answers(b.vm.port, 250ms)) {
                b.phase = Boot::Phase::Up;
                b.vm.boot_ms = ms_since(b.qemu_started);
                if (auto saved = dir.save_state(b.vm); !saved) {
                    note(saved.error().describe());
                }
                note(name + ": SSH answers after " + seconds_text(b.vm.boot_ms));
                continue;
            }
            if (Clock::now() - b.qemu_started > options.timeout) {
                b.phase = Boot::Phase::Failed;
                b.error = "SSH did not answer within " + std::to_string(options.timeout.count()) +
                          " s (--timeout); VM stopped. Console (" +
                          (b.vm.dir / "console.log").string() + "):\n" +
                          tail_lines(console_tail(b.vm.dir, 15), 15);
                if (auto pid = running_qemu(b.vm.dir)) {
                    stop_qemu(*pid);
                }
                dir.forget_run(b.vm);
                continue;
            }
            waiting = true;
        }
        if (!waiting) {
            break;
        }
        std::this_thread::sleep_for(100ms);
    }

    // The inventory names every VM of the folder that is up, and only those.
    std::vector<VmRecord> up = running_vms(dir);
    if (auto wrote = dir.write_inventory(up); !wrote) {
        note(wrote.error().describe());
        undo(dir, boots);
        return kExitUsage;
    }
    int failed = 0;
    for (const auto& b : boots) {
        if (b.phase == Boot::Phase::Failed) {
            ++failed;
            std::fprintf(stderr, "bpfleet lab: %s: %s\n", vm_name(*b.vm.kernel).c_str(),
                         b.error.c_str());
        }
    }
    std::vector<std::string> states(up.size(), "up");
    print_table(up, states);
    if (up.empty()) {
        std::printf("no VM is up\n");
    } else {
        std::printf("inventory: %s\n", dir.inventory().c_str());
    }
    return failed == 0 ? kExitOk : kExitSomeFailed;
}

int lab_status(const fs::path& path) {
    auto dir = LabDir::open_read_only(path);
    std::vector<VmRecord> vms;
    if (dir) {
        for (auto& vm : dir->load_all()) {
            if (vm.pid || fs::exists(vm.dir / "state")) {
                vms.push_back(std::move(vm));
            }
        }
    }
    if (vms.empty()) {
        std::printf("no lab VM is running in %s\n", path.c_str());
        return kExitOk;
    }
    std::vector<std::string> states;
    int bad = 0;
    for (const auto& vm : vms) {
        if (!vm.pid) {
            states.emplace_back("stopped");
            ++bad;
        } else if (vm.port > 0 && ssh_answers(vm.port, 2s)) {
            states.emplace_back("up");
        } else {
            states.emplace_back("no-ssh");
            ++bad;
        }
    }
    print_table(vms, states);
    std::printf("inventory: %s\n", dir->inventory().c_str());
    return bad == 0 ? kExitOk : kExitSomeFailed;
}

int lab_down(const fs::path& path, const std::vector<const LabKernel*>& kernels) {
    if (!LabDir::open_read_only(path)) {
        std::printf("no lab VM is running in %s\n", path.c_str());
        return kExitOk;
    }
    auto opened = LabDir::open(path);
    if (!opened) {
        note(opened.error().describe());
        return kExitUsage;
    }
    const LabDir& dir = *opened;
    int stopped = 0;
    for (auto& vm : dir.load_all()) {
        if (!kernels.empty() &&
            std::find(kernels.begin(), kernels.end(), vm.kernel) == kernels.end()) {
            continue;
        }
        if (vm.pid) {
            stop_qemu(*vm.pid);
            std::printf("stopped %s (pid %d)\n", vm_name(*vm.kernel).c_str(),
                        static_cast<int>(*vm.pid));
            ++stopped;
        }
        dir.forget_run(vm);
    }
    if (auto wrote = dir.write_inventory(running_vms(dir)); !wrote) {
        note(wrote.error().describe());
        return kExitUsage;
    }
    if (stopped == 0) {
        std::printf("no lab VM is running in %s\n", dir.path().c_str());
    }
    return kExitOk;
}

} // namespace bpfleet::lab
