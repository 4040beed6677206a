// The harness itself, checked with OpenSSH's own ssh client: fixtures start,
// accept each key type, change host keys, forward for jump hosts (and log
// it the way ssh_run_test expects), slow commands down, freeze and stop
// without leaving processes; the test users and their sudo rule; and
// scripts/sshd-farm.sh. None of it needs bpfleet's SSH transport.

#include "oci/test_servers.hpp"
#include "ssh/cli_process.hpp"
#include "ssh/ssh_test_base.hpp"
#include "ssh/sshd_fixture.hpp"
#include "ssh/test_inventory.hpp"
#include "support/require.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <set>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace bpfleet::test {
namespace {

using namespace std::chrono_literals;

class SshHarness : public SshTestBase {
protected:
    SshHarness() : SshTestBase("bpfleet-ssh-harness") {}

    std::unique_ptr<SshdFixture> sshd(const std::string& name, SshdOptions options = {}) {
        auto f = std::make_unique<SshdFixture>(dir() / name, std::move(options));
        if (f->ok()) {
            f->authorize(m_key);
            std::ofstream(m_known_hosts, std::ios::app) << f->known_hosts_line() << "\n";
        }
        return f;
    }
};

TEST_F(SshHarness, EveryKeyTypeLogsInWithStrictHostKeyChecking) {
    auto a = sshd("a");
    ASSERT_TRUE(a->ok()) << a->error();
    for (const std::string type : {"ed25519", "ecdsa", "rsa"}) {
        auto key = type == "ed25519" ? m_key : make_client_key(dir() / "keys", type);
        ASSERT_TRUE(key.error.empty()) << key.error;
        a->authorize(key);
        std::string out;
        int rc = ssh_client(*a, key.private_key, m_known_hosts, "root", "echo hello-" + type, &out);
        EXPECT_EQ(rc, 0) << type << ": " << out << "\n" << a->log();
        EXPECT_NE(out.find("hello-" + type), std::string::npos) << out;
    }
    EXPECT_EQ(a->log_count("Accepted publickey for root"), 3) << a->log();
    // ssh_run_test counts these to tell "connected" and "tried to log in".
    EXPECT_EQ(a->log_count("Connection from 127.0.0.1"), 3) << a->log();
    EXPECT_GE(a->log_count("userauth-request for user root"), 3) << a->log();
    for (const char* algo : {"ssh2: ED25519", "ssh2: ECDSA", "ssh2: RSA"}) {
        EXPECT_EQ(a->log_count(algo), 1) << algo;
    }
}

TEST_F(SshHarness, UnauthorizedKeyIsRefused) {
    auto a = sshd("a");
    ASSERT_TRUE(a->ok()) << a->error();
    auto stranger = make_client_key(dir() / "keys", "ed25519", "stranger");
    ASSERT_TRUE(stranger.error.empty()) << stranger.error;
    std::string out;
    EXPECT_EQ(ssh_client(*a, stranger.private_key, m_known_hosts, "root", "true", &out), 255)
        << out;
    EXPECT_NE(out.find("Permission denied"), std::string::npos) << out;
    EXPECT_EQ(a->log_count("Accepted publickey"), 0) << a->log();
    EXPECT_GE(a->log_count("userauth-request for user root"), 1) << a->log();
}

TEST_F(SshHarness, RestartWithNewHostKeyKeepsThePortAndChangesTheKey) {
    auto a = sshd("a");
    ASSERT_TRUE(a->ok()) << a->error();
    std::string out;
    ASSERT_EQ(ssh_client(*a, m_key.private_key, m_known_hosts, "root", "true", &out), 0) << out;
    int port = a->port();
    auto before = a->host_key_fingerprint();
    ASSERT_TRUE(a->restart_with_new_host_key()) << a->error();
    EXPECT_EQ(a->port(), port);
    EXPECT_NE(a->host_key_fingerprint(), before);
    auto offset = a->log_size();
    EXPECT_EQ(ssh_client(*a, m_key.private_key, m_known_hosts, "root", "true", &out), 255) << out;
    EXPECT_NE(out.find("REMOTE HOST IDENTIFICATION HAS CHANGED"), std::string::npos) << out;
    EXPECT_EQ(a->log_count("Accepted publickey", offset), 0) << a->log(offset);
    // The client gave up at the host key: it never asked to authenticate.
    EXPECT_EQ(a->log_count("Connection from", offset), 1) << a->log(offset);
    EXPECT_EQ(a->log_count("userauth-request", offset), 0) << a->log(offset);
}

// ssh_run_test's jump tests look for these log lines on the bastion.
TEST_F(SshHarness, JumpHostLogsTheForwardingAndAllowTcpForwardingNoRefusesIt) {
    auto bastion = sshd("bastion");
    auto target = sshd("target");
    auto closed = sshd("closed", SshdOptions{.extra_config = {"AllowTcpForwarding no"}});
    ASSERT_TRUE(bastion->ok()) << bastion->error();
    ASSERT_TRUE(target->ok()) << target->error();
    ASSERT_TRUE(closed->ok()) << closed->error();
    auto proxy = [&](const SshdFixture& via) {
        // ProxyJump would not pass -i/-o on to the jump connection.
        return "ProxyCommand=" + std::string(kSshClient) +
               " -F /dev/null -o BatchMode=yes -o UserKnownHostsFile=" + m_known_hosts.string() +
               " -i " + m_key.private_key.string() + " -p " + std::to_string(via.port()) +
               " -W %h:%p root@127.0.0.1";
    };
    std::string out;
    EXPECT_EQ(ssh_client(*target, m_key.private_key, m_known_hosts, "root", "echo via-bastion",
                         &out, {"-o", proxy(*bastion)}),
              0)
        << out << "\n"
        << bastion->log();
    EXPECT_NE(out.find("via-bastion"), std::string::npos) << out;
    auto wanted = "server_request_direct_tcpip: originator 127.0.0.1 port ";
    auto to_target = "to 127.0.0.1 port " + std::to_string(target->port());
    EXPECT_EQ(bastion->log_count(wanted), 1) << bastion->log();
    EXPECT_EQ(bastion->log_count(to_target), 1) << bastion->log();

    EXPECT_EQ(ssh_client(*target, m_key.private_key, m_known_hosts, "root", "true", &out,
                         {"-o", proxy(*closed)}),
              255)
        << out;
    EXPECT_NE(out.find("administratively prohibited"), std::string::npos) << out;
    EXPECT_EQ(closed->log_count(to_target), 0) << closed->log();
}

TEST_F(SshHarness, SlowForceCommandDelaysEveryCommandAndKeepsItsMeaning) {
    auto slow = sshd("slow", SshdOptions{.extra_config = {slow_force_command(1)}});
    ASSERT_TRUE(slow->ok()) << slow->error();
    std::string out;
    const std::string command =
        "echo \"a  b\" $((1 + 2)) \"$SSH_ORIGINAL_COMMAND\" | wc -c; exit 7";
    auto t0 = std::chrono::steady_clock::now();
    int rc = ssh_client(*slow, m_key.private_key, m_known_hosts, "root", command, &out);
    auto elapsed = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(rc, 7) << out;
    EXPECT_GE(elapsed, 1s);
    // "a  b 3 " + the command itself + "\n": it ran unchanged, in a shell.
    EXPECT_EQ(out, std::to_string(7 + command.size() + 1) + "\n");
}

TEST_F(SshHarness, FrozenSessionsAreStoppedAndStopLeavesNoProcess) {
    auto a = sshd("a");
    ASSERT_TRUE(a->ok()) << a->error();
    ChildProcess client({kSshClient, "-F", "/dev/null", "-o", "BatchMode=yes", "-o",
                         "UserKnownHostsFile=" + m_known_hosts.string(), "-i",
                         m_key.private_key.string(), "-p", std::to_string(a->port()),
                         "root@127.0.0.1", "sleep 60"},
                        dir() / "client.log");
    std::vector<pid_t> sessions;
    for (int i = 0; i < 500; ++i) {
        sessions = a->session_processes();
        bool sleeping = false;
        for (pid_t p : sessions) {
            sleeping |= process_cmdline(p).find("sleep 60") != std::string::npos;
        }
        if (sleeping) {
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    // The per-connection sshd and the command (for root, sshd forks no
    // unprivileged child after authentication).
    ASSERT_GE(sessions.size(), 2u);
    auto frozen = a->freeze_sessions();
    std::this_thread::sleep_for(100ms);
    for (pid_t p : frozen) {
        std::string text = read_text("/proc/" + std::to_string(p) + "/stat");
        EXPECT_NE(text.find(") T "), std::string::npos) << text;
    }
    const pid_t listener = a->pid();
    ASSERT_GT(listener, 0);
    a->stop();
    for (pid_t p : frozen) {
        EXPECT_FALSE(process_alive(p)) << p << " " << process_cmdline(p);
    }
    EXPECT_FALSE(process_alive(listener));
    EXPECT_EQ(a->pid(), -1);
}

TEST_F(SshHarness, TestUsersLogInAndOnlyOneMaySudo) {
    ASSERT_TRUE(s_users_error.empty()) << s_users_error;
    auto a = sshd("a");
    ASSERT_TRUE(a->ok()) << a->error();
    std::string out;
    EXPECT_EQ(
        ssh_client(*a, m_key.private_key, m_known_hosts, kSudoUser, "id -un; sudo -n id -u", &out),
        0)
        << out;
    EXPECT_NE(out.find(std::string(kSudoUser) + "\n0"), std::string::npos) << out;
    EXPECT_NE(ssh_client(*a, m_key.private_key, m_known_hosts, kNoSudoUser, "sudo -n true", &out),
              0)
        << out;
    EXPECT_NE(out.find("password is required"), std::string::npos) << out;
    struct stat st {};
    ASSERT_EQ(::stat(kSudoersFile, &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0440u);
    EXPECT_EQ(ensure_test_users(), "") << "a second call changes nothing";
}

TEST_F(SshHarness, CliRunsAsASubprocess) {
    auto r = run_bpfleet({"version"}, dir(), 30);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_FALSE(r.out.empty()) << r.describe();
    auto bad = run_bpfleet({"run", "--no-such-option"}, dir(), 30);
    EXPECT_EQ(bad.exit_code, 2) << bad.describe();
}

// scripts/sshd-farm.sh: 18 hosts are two sshd (16 ports each at most), every
// port takes the farm's key with its known_hosts, and stop leaves nothing.
TEST_F(SshHarness, FarmScriptStartsLogsInAndStops) {
    const fs::path script = fs::path(BPFLEET_SOURCE_DIR) / "scripts/sshd-farm.sh";
    const int count = 18;
    const int base = free_port_block(count);
    ASSERT_NE(base, 0) << "no " << count << " free consecutive ports";
    auto farm = dir() / "farm";
    std::string out;
    ASSERT_EQ(run_command({script.string(), "start", farm.string(), "--count",
                           std::to_string(count), "--base-port", std::to_string(base)},
                          &out, 60),
              0)
        << out;
    std::set<std::string> pid_files;
    for (const auto& e : fs::directory_iterator(farm)) {
        if (e.path().extension() == ".pid") {
            pid_files.insert(e.path().filename().string());
        }
    }
    EXPECT_EQ(pid_files, (std::set<std::string>{"sshd.1.pid", "sshd.2.pid"}));
    for (int port : {base, base + 15, base + 16, base + count - 1}) {
        std::vector<std::string> argv{kSshClient,
                                      "-F",
                                      "/dev/null",
                                      "-o",
                                      "BatchMode=yes",
                                      "-o",
                                      "StrictHostKeyChecking=yes",
                                      "-o",
                                      "UserKnownHostsFile=" + (farm / "known_hosts").string(),
                                      "-i",
                                      (farm / "id_ed25519").string(),
                                      "-p",
                                      std::to_string(port),
                                      "root@127.0.0.1",
                                      "echo farm-ok"};
        EXPECT_EQ(run_command(argv, &out, 30), 0) << port << ": " << out;
        EXPECT_NE(out.find("farm-ok"), std::string::npos) << out;
    }
    std::ifstream hosts(farm / "hosts.txt");
    std::string first;
    std::getline(hosts, first);
    EXPECT_EQ(first, "root@127.0.0.1:" + std::to_string(base));
    std::string toml = read_text(farm / "inventory.toml");
    EXPECT_NE(
        toml.find("[hosts.host-018]\naddress = \"127.0.0.1\"\nport = " + std::to_string(base + 17)),
        std::string::npos)
        << toml;
    std::vector<pid_t> pids;
    for (const auto& f : pid_files) {
        std::ifstream in(farm / f);
        pid_t p = 0;
        in >> p;
        pids.push_back(p);
    }
    EXPECT_EQ(run_command({script.string(), "stop", farm.string()}, &out, 60), 0) << out;
    for (pid_t p : pids) {
        EXPECT_FALSE(process_alive(p)) << p;
    }
    EXPECT_FALSE(fs::exists(farm / "sshd.1.pid"));
    EXPECT_FALSE(listening_on(base));
}

} // namespace
} // namespace bpfleet::test
