#include "lab/lab_dir.hpp"

#include "common/subprocess.hpp"
#include "lab/vm.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/file.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace bpfleet::lab {
namespace {

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

std::map<std::string, std::string> read_fields(const fs::path& path) {
    std::map<std::string, std::string> out;
    std::istringstream in(read_text(path));
    std::string line;
    while (std::getline(in, line)) {
        if (auto eq = line.find('='); eq != std::string::npos) {
            out[line.substr(0, eq)] = line.substr(eq + 1);
        }
    }
    return out;
}

long to_long(const std::string& text) {
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(text.c_str(), &end, 10);
    return errno == 0 && end != text.c_str() ? v : 0;
}

// Writes `text` to `path` through a temporary file and a rename: a reader
// sees the old file or the new one, never half of one.
Result<void> write_atomically(const fs::path& path, const std::string& text, mode_t mode = 0644) {
    const fs::path tmp = path.string() + ".tmp";
    {
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
        if (!fd) {
            return make_error("system",
                              "cannot write " + tmp.string() + ": " + std::strerror(errno), errno);
        }
        std::size_t done = 0;
        while (done < text.size()) {
            ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return make_error("system", "cannot write " + tmp.string(), errno);
            }
            done += static_cast<std::size_t>(n);
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        return make_error("system", "cannot rename " + tmp.string() + ": " + std::strerror(errno),
                          errno);
    }
    return {};
}

std::string toml_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

fs::path home_or_tmp() {
    if (const char* home = std::getenv("HOME"); home && *home) {
        return home;
    }
    return fs::temp_directory_path();
}

} // namespace

Result<LabDir> LabDir::open(fs::path dir) {
    std::error_code ec;
    fs::create_directories(dir / "vms", ec);
    if (ec) {
        return make_error("usage", "cannot create the lab folder: " + ec.message(), ec.value(),
                          dir.string());
    }
    dir = fs::absolute(dir).lexically_normal();
    Fd lock(::open((dir / "lab.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!lock) {
        return make_error("system", std::string("cannot open lab.lock: ") + std::strerror(errno),
                          errno, dir.string());
    }
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
        return make_error("busy",
                          "another `bpfleet lab` command is working on this folder; wait for it "
                          "or use another --dir",
                          errno, dir.string());
    }
    return LabDir(dir, std::move(lock));
}

std::optional<LabDir> LabDir::open_read_only(fs::path dir) {
    if (!fs::is_directory(dir / "vms")) {
        return std::nullopt;
    }
    return LabDir(fs::absolute(dir).lexically_normal(), Fd());
}

fs::path LabDir::vm_dir(const LabKernel& kernel) const {
    return m_path / "vms" / vm_name(kernel);
}

Result<void> LabDir::ensure_client_key() const {
    if (fs::exists(client_key()) && fs::exists(client_key().string() + ".pub")) {
        return {};
    }
    std::error_code ec;
    fs::remove(client_key(), ec);
    fs::remove(client_key().string() + ".pub", ec);
    auto run = run_process({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bpfleet-lab",
                            "-f", client_key().string()},
                           {.timeout = std::chrono::seconds(30), .err_to_out = true});
    if (!run) {
        return make_error("system",
                          "cannot run ssh-keygen (Debian package openssh-client): " +
                              run.error().message,
                          run.error().errnum);
    }
    if (!run->status.success()) {
        return make_error("system", "ssh-keygen " + run->status.describe() + ": " + run->out);
    }
    return {};
}

VmRecord LabDir::load(const LabKernel& kernel) const {
    VmRecord vm;
    vm.kernel = &kernel;
    vm.dir = vm_dir(kernel);
    auto state = read_fields(vm.dir / "state");
    vm.port = static_cast<int>(to_long(state["port"]));
    vm.boot_ms = to_long(state["boot_ms"]);
    vm.accel = state["accel"];
    std::istringstream(read_text(vm.dir / "kernel.txt")) >> vm.package >> vm.version >> vm.release;
    vm.btf = read_text(vm.dir / "config").find("\nCONFIG_DEBUG_INFO_BTF=y\n") != std::string::npos;
    std::string key = read_text(vm.dir / "host_key.pub");
    vm.host_key = key.substr(0, key.find('\n'));
    vm.pid = running_qemu(vm.dir);
    return vm;
}

std::vector<VmRecord> LabDir::load_all() const {
    std::vector<VmRecord> out;
    for (const auto& kernel : lab_kernels()) {
        if (fs::is_directory(vm_dir(kernel))) {
            out.push_back(load(kernel));
        }
    }
    return out;
}

Result<void> LabDir::save_state(const VmRecord& vm) const {
    return write_atomically(vm.dir / "state", "port=" + std::to_string(vm.port) +
                                                  "\nboot_ms=" + std::to_string(vm.boot_ms) +
                                                  "\naccel=" + vm.accel + "\n");
}

void LabDir::forget_run(const VmRecord& vm) const {
    std::error_code ec;
    fs::remove(vm.dir / "qemu.pid", ec);
    fs::remove(vm.dir / "state", ec);
}

Result<void> LabDir::write_inventory(const std::vector<VmRecord>& up) const {
    std::error_code ec;
    if (up.empty()) {
        fs::remove(inventory(), ec);
        fs::remove(known_hosts(), ec);
        return {};
    }
    std::string known;
    for (const auto& vm : up) {
        known += "[127.0.0.1]:" + std::to_string(vm.port) + " " + vm.host_key + "\n";
    }
    // known_hosts first: an inventory never names a key file that lacks its hosts.
    TRY(write_atomically(known_hosts(), known));
    return write_atomically(inventory(), inventory_text(up));
}

std::string inventory_text(const std::vector<VmRecord>& up) {
    std::string out =
        "# The bpfleet lab's VMs that are up: written by `bpfleet lab up`, rewritten by\n"
        "# `bpfleet lab down`. Use it as it is: bpfleet run -i THIS_FILE -a ARTIFACT\n"
        "[defaults]\n"
        "user = \"root\"\n"
        "identity_file = [\"id_ed25519\"]\n"
        "known_hosts = \"known_hosts\"\n"
        "host_key_policy = \"strict\"\n";
    for (const auto& vm : up) {
        const LabKernel& k = *vm.kernel;
        out += "\n[hosts." + toml_string(vm_name(k)) + "]\n";
        out += "address = \"127.0.0.1\"\n";
        out += "port = " + std::to_string(vm.port) + "\n";
        out += "tags = [\"lab\", " + toml_string(std::string(k.debian_arch)) + ", " +
               toml_string(std::string(k.uname_arch)) + ", " + toml_string(std::string(k.series)) +
               ", " + (vm.btf ? "\"btf\"" : "\"no-btf\"") + "]\n";
        out += "vars = { kernel_package = " + toml_string(vm.package) +
               ", kernel_version = " + toml_string(vm.version) +
               ", kernel_release = " + toml_string(vm.release) +
               ", accel = " + toml_string(vm.accel) + " }\n";
    }
    return out;
}

fs::path default_lab_dir() {
    if (const char* dir = std::getenv("BPFLEET_LAB_DIR"); dir && *dir) {
        return dir;
    }
    if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && xdg[0] == '/') {
        return fs::path(xdg) / "bpfleet" / "lab";
    }
    return home_or_tmp() / ".local" / "state" / "bpfleet" / "lab";
}

fs::path default_lab_cache() {
    if (const char* dir = std::getenv("BPFLEET_LAB_CACHE"); dir && *dir) {
        return dir;
    }
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && xdg[0] == '/') {
        return fs::path(xdg) / "bpfleet" / "lab";
    }
    return home_or_tmp() / ".cache" / "bpfleet" / "lab";
}

} // namespace bpfleet::lab
