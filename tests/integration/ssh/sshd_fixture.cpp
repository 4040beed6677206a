#include "ssh/sshd_fixture.hpp"

#include "oci/image_builder.hpp"
#include "oci/test_servers.hpp"
#include "ssh/cli_process.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <fcntl.h>
#include <fstream>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <pwd.h>
#include <random>
#include <shadow.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
namespace bpfleet::test {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------

std::string ssh_prerequisites_missing() {
    if (::geteuid() != 0) {
        return "the SSH integration tests run as root (sshd, root logins, test users, sudoers)";
    }
    for (const char* p :
         {kSshd, kSshKeygen, kSshClient, kSudo, kVisudo, kUseradd, kUsermod, kScript}) {
        if (!have_program(p)) {
            return std::string(p) + " is missing (scripts/install-deps.sh installs openssh-server, "
                                    "openssh-client, sudo, bsdutils)";
        }
    }
    return {};
}

int free_port_block(int count) {
    auto can_bind = [](int port) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        if (fd >= 0) {
            ::close(fd);
        }
        return ok;
    };
    static std::mt19937 random(static_cast<unsigned>(::getpid()) ^
                               static_cast<unsigned>(::time(nullptr)));
    for (int attempt = 0; attempt < 100; ++attempt) {
        int base =
            20000 + static_cast<int>(random() % static_cast<unsigned>(32000 - 20000 - count));
        bool all_free = true;
        for (int q = base; all_free && q < base + count; ++q) {
            all_free = can_bind(q);
        }
        if (all_free) {
            return base;
        }
    }
    return 0;
}

bool bpf_usable() {
    bpf_attr attr{};
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 8;
    attr.max_entries = 1;
    long fd = ::syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
    if (fd < 0) {
        return false;
    }
    ::close(static_cast<int>(fd));
    return true;
}

std::string ensure_test_users() {
    std::string out;
    for (const char* user : {kSudoUser, kNoSudoUser}) {
        if (::getpwnam(user) == nullptr) {
            std::string home = std::string("/home/") + user;
            if (run_command({kUseradd, "-m", "-d", home, "-s", "/bin/bash", "-c",
                             "bpfleet SSH test user", user},
                            &out, 30) != 0) {
                return "useradd " + std::string(user) + " failed: " + out;
            }
        }
        // A '!' password (useradd's default) is a locked account to sshd without PAM.
        const spwd* shadow = ::getspnam(user);
        if (shadow == nullptr || shadow->sp_pwdp == nullptr || shadow->sp_pwdp[0] == '!') {
            if (run_command({kUsermod, "-p", "*", user}, &out, 30) != 0) {
                return "usermod -p '*' " + std::string(user) + " failed: " + out;
            }
        }
    }
    const std::string rule =
        std::string("# bpfleet SSH integration tests (tests/integration/ssh): become without a "
                    "password\n") +
        kSudoUser + " ALL=(ALL:ALL) NOPASSWD: ALL\n";
    struct stat st {};
    if (::stat(kSudoersFile, &st) == 0 && (st.st_mode & 07777) == 0440 &&
        read_text(kSudoersFile) == rule) {
        return {};
    }
    // sudo skips names with a '.' in /etc/sudoers.d: the file is inert until renamed.
    std::string tmp = std::string(kSudoersFile) + ".new";
    write_text(tmp, rule);
    ::chmod(tmp.c_str(), 0440);
    if (run_command({kVisudo, "-cf", tmp}, &out, 30) != 0) {
        ::unlink(tmp.c_str());
        return "visudo -cf rejects the test sudoers rule: " + out;
    }
    if (::rename(tmp.c_str(), kSudoersFile) != 0) {
        return std::string("cannot install ") + kSudoersFile + ": " + std::strerror(errno);
    }
    return {};
}

// ---------------------------------------------------------------------------

ScratchDir::ScratchDir(std::string_view prefix) {
    std::random_device rd;
    m_path = fs::temp_directory_path() /
             (std::string(prefix) + "-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(m_path);
    fs::permissions(m_path, fs::perms(0755));
}

ScratchDir::~ScratchDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
}

ClientKey make_client_key(const fs::path& dir, const std::string& type, const std::string& name,
                          const std::string& passphrase) {
    ClientKey key;
    key.type = type;
    key.private_key = dir / (name.empty() ? "id_" + type : name);
    key.public_key = key.private_key;
    key.public_key += ".pub";
    fs::create_directories(dir);
    std::vector<std::string> argv{kSshKeygen, "-q",
                                  "-t",       type,
                                  "-N",       "",
                                  "-C",       "bpfleet-test-" + type,
                                  "-f",       key.private_key.string()};
    if (type == "rsa") {
        argv.insert(argv.begin() + 4, {"-b", "3072"});
    }
    std::string out;
    if (run_command(argv, &out, 60) != 0 || !fs::exists(key.public_key)) {
        key.error = "ssh-keygen -t " + type + " failed: " + out;
        return key;
    }
    if (!passphrase.empty() && run_command({kSshKeygen, "-q", "-p", "-m", "PEM", "-P", "", "-N",
                                            passphrase, "-f", key.private_key.string()},
                                           &out, 60) != 0) {
        key.error = "ssh-keygen -p -m PEM failed: " + out;
    }
    return key;
}

std::string slow_force_command(double seconds) {
    // sshd runs this through the user's shell; the original command then
    // runs in that shell too, as it would without ForceCommand.
    std::ostringstream delay;
    delay << seconds;
    return "ForceCommand /bin/sh -c 'sleep " + delay.str() +
           "; exec \"$SHELL\" -c \"$SSH_ORIGINAL_COMMAND\"'";
}

// ---------------------------------------------------------------------------

SshdFixture::SshdFixture(fs::path dir, SshdOptions options)
    : m_dir(std::move(dir)), m_options(std::move(options)) {
    fs::create_directories(m_dir);
    fs::permissions(m_dir, fs::perms(0755));
    // Debian's sshd wants its privilege-separation directory (the service
    // unit makes it; it does not run here).
    std::error_code ec;
    fs::create_directories("/run/sshd", ec);
    m_port = free_port_block(1);
    write_text(authorized_keys(), "");
    fs::permissions(authorized_keys(), fs::perms(0644));
    if (make_host_key()) {
        start();
    }
}

SshdFixture::~SshdFixture() {
    stop();
}

std::string SshdFixture::endpoint() const {
    return "127.0.0.1:" + std::to_string(m_port);
}

bool SshdFixture::make_host_key() {
    auto key = m_dir / "ssh_host_ed25519_key";
    std::error_code ec;
    fs::remove(key, ec);
    fs::remove(fs::path(key.string() + ".pub"), ec);
    std::string out;
    if (run_command({kSshKeygen, "-q", "-t", "ed25519", "-N", "", "-C", "bpfleet-test-host", "-f",
                     key.string()},
                    &out, 30) != 0) {
        m_error = "ssh-keygen (host key) failed: " + out;
        return false;
    }
    return true;
}

bool SshdFixture::start() {
    m_error.clear();
    std::ostringstream conf;
    // sshd keeps the first value of a keyword: the test's lines go first.
    for (const auto& line : m_options.extra_config) {
        conf << line << "\n";
    }
    conf << "ListenAddress 127.0.0.1:" << m_port << "\n"
         << "HostKey " << (m_dir / "ssh_host_ed25519_key").string() << "\n"
         << "PidFile none\n"
         << "AuthorizedKeysFile " << authorized_keys().string() << "\n"
         << "StrictModes no\n"
         << "PermitRootLogin prohibit-password\n"
         << "PubkeyAuthentication yes\n"
         << "UsePAM no\n"
         << "PasswordAuthentication no\n"
         << "KbdInteractiveAuthentication no\n"
         << "MaxStartups 2000:30:4000\n"
         << "MaxSessions 64\n"
         << "LogLevel " << m_options.log_level << "\n"
         << "AllowTcpForwarding yes\n"
         << "UseDNS no\n"
         << "PrintMotd no\n"
         << "PrintLastLog no\n"
         << "X11Forwarding no\n";
    if (m_options.skip_bashrc) {
        conf << "SetEnv SHLVL=1\n";
    }
    auto config = m_dir / "sshd_config";
    write_text(config, conf.str());

    std::string out;
    if (run_command({kSshd, "-t", "-f", config.string()}, &out, 30) != 0) {
        m_error = "sshd -t rejects " + config.string() + ": " + out;
        return false;
    }
    auto console = m_dir / "sshd.out";
    auto started = spawn_logged({kSshd, "-D", "-f", config.string(), "-E", log_path().string()},
                                console, console, {}, /*own_group=*/false);
    if (!started) {
        m_error = "cannot start sshd: " + started.error().describe();
        return false;
    }
    m_sshd = std::move(*started);
    auto deadline = std::chrono::steady_clock::now() + 10s;
    // Its own socket: another program that took the port after
    // free_port_block() looked (sshd then exits) must not pass for it.
    while (!listening_on(m_port, m_sshd.pid())) {
        if (m_sshd.try_wait()) {
            m_error = "sshd " + m_sshd.status()->describe() + " before listening on " + endpoint() +
                      ": " + read_text(console) + text_tail(log(), 2000);
            m_sshd = Process();
            return false;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            stop();
            m_error = "sshd did not listen on " + endpoint() +
                      " within 10 s: " + read_text(console) + text_tail(log(), 2000);
            return false;
        }
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

void SshdFixture::stop() {
    if (!m_sshd.running()) {
        m_sshd = Process();
        return;
    }
    // A stopped listener accepts nobody new while its sessions are collected.
    m_sshd.kill(SIGSTOP);
    auto victims = descendants(m_sshd.pid());
    for (pid_t p : victims) {
        ::kill(p, SIGCONT); // frozen by a test: SIGTERM waits for SIGCONT
        ::kill(p, SIGTERM);
    }
    m_sshd.kill(SIGTERM);
    m_sshd.kill(SIGCONT);
    auto deadline = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < deadline) {
        bool reaped = !m_sshd.running() || m_sshd.try_wait();
        bool left = std::any_of(victims.begin(), victims.end(), process_alive);
        if (reaped && !left) {
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    for (pid_t p : victims) {
        if (process_alive(p)) {
            ::kill(p, SIGKILL);
        }
    }
    m_sshd.kill_and_wait();
    m_sshd = Process();
}

bool SshdFixture::restart_with_new_host_key() {
    stop();
    if (!make_host_key()) {
        return false;
    }
    return start();
}

std::string SshdFixture::log(std::size_t offset) const {
    std::string text = read_text(log_path());
    return offset >= text.size() ? std::string{} : text.substr(offset);
}

std::size_t SshdFixture::log_size() const {
    std::error_code ec;
    auto size = fs::file_size(log_path(), ec);
    return ec ? 0 : static_cast<std::size_t>(size);
}

int SshdFixture::log_count(std::string_view needle, std::size_t offset) const {
    std::string text = log(offset);
    int n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + needle.size())) {
        ++n;
    }
    return n;
}

void SshdFixture::authorize(const ClientKey& key) {
    std::ofstream out(authorized_keys(), std::ios::app);
    out << read_text(key.public_key);
}

std::string SshdFixture::known_hosts_line() const {
    std::istringstream pub(read_text(m_dir / "ssh_host_ed25519_key.pub"));
    std::string type, blob;
    pub >> type >> blob;
    return "[127.0.0.1]:" + std::to_string(m_port) + " " + type + " " + blob;
}

std::string SshdFixture::host_key_fingerprint() const {
    std::string out;
    run_command({kSshKeygen, "-l", "-f", (m_dir / "ssh_host_ed25519_key.pub").string()}, &out, 30);
    std::istringstream fields(out);
    std::string bits, fingerprint;
    fields >> bits >> fingerprint;
    return fingerprint;
}

std::vector<pid_t> SshdFixture::session_processes() const {
    return m_sshd.running() ? descendants(m_sshd.pid()) : std::vector<pid_t>{};
}

std::vector<pid_t> SshdFixture::freeze_sessions() {
    auto pids = session_processes();
    for (pid_t p : pids) {
        ::kill(p, SIGSTOP);
    }
    return pids;
}

void SshdFixture::thaw(const std::vector<pid_t>& pids) {
    for (pid_t p : pids) {
        if (p > 0) {
            ::kill(p, SIGCONT);
        }
    }
}

int ssh_client(const SshdFixture& sshd, const fs::path& key, const fs::path& known_hosts,
               const std::string& user, const std::string& command, std::string* output,
               const std::vector<std::string>& extra_options) {
    // ssh keeps the first value of an option: the caller's go first.
    std::vector<std::string> argv{kSshClient, "-F", "/dev/null"};
    for (const auto& o : extra_options) {
        argv.push_back(o);
    }
    for (const char* o : {"BatchMode=yes", "IdentitiesOnly=yes", "StrictHostKeyChecking=yes",
                          "ConnectTimeout=10", "LogLevel=ERROR"}) {
        argv.push_back("-o");
        argv.push_back(o);
    }
    argv.insert(argv.end(), {"-o", "UserKnownHostsFile=" + known_hosts.string(), "-i", key.string(),
                             "-p", std::to_string(sshd.port()), user + "@127.0.0.1", command});
    return run_command(argv, output, 60);
}

} // namespace bpfleet::test
