// Real OpenSSH sshd for the SSH integration tests, and what the tests need
// around it: client keys, the test users for `become`, the OpenSSH client.
// Inventories are test_inventory.hpp, the bpfleet command line
// cli_process.hpp, files and /proc local_processes.hpp.
//
// SshdFixture owns one `/usr/sbin/sshd -D` on 127.0.0.1 with an ephemeral
// port, its own throwaway ed25519 host key, an AuthorizedKeysFile shared by
// every user (StrictModes off), DEBUG1 logging to a file, and any extra
// sshd_config lines a test wants (AllowTcpForwarding no, ForceCommand ...).
// Its destructor stops the listener and every process below it — the
// per-connection sshd, the shells and agents they run, even SIGSTOPped ones —
// with SIGCONT, SIGTERM, then SIGKILL. Processes started here die with the
// test binary (PR_SET_PDEATHSIG, through Process's die_with_parent).
//
// Nothing here is thread-safe; one test thread drives it. Failures are
// returned as text (`error()`, empty when fine), for ASSERT messages.
#pragma once

#include "ssh/local_processes.hpp"

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace bpfleet::test {

namespace fs = std::filesystem;

inline constexpr const char* kSshd = "/usr/sbin/sshd";
inline constexpr const char* kSshKeygen = "/usr/bin/ssh-keygen";
inline constexpr const char* kSshClient = "/usr/bin/ssh";
inline constexpr const char* kSudo = "/usr/bin/sudo";
inline constexpr const char* kVisudo = "/usr/sbin/visudo";
inline constexpr const char* kUseradd = "/usr/sbin/useradd";
inline constexpr const char* kUsermod = "/usr/sbin/usermod";

// `count` consecutive ports on 127.0.0.1 that can be bound now, below the
// ephemeral range (32768..60999 on Linux), where an outgoing connection of
// some other test could take one between this check and sshd's bind. 0 when
// none was found.
int free_port_block(int count);

// The users `become` is tested with: one with a NOPASSWD sudoers rule
// (/etc/sudoers.d/bpfleet-test), one without.
inline constexpr const char* kSudoUser = "bpfleet-sudo";
inline constexpr const char* kNoSudoUser = "bpfleet-nosudo";
inline constexpr const char* kSudoersFile = "/etc/sudoers.d/bpfleet-test";

// What the SSH tests lack on this machine ("" when nothing): root, sshd,
// ssh-keygen, ssh, sudo, visudo, useradd, usermod, script.
std::string ssh_prerequisites_missing();

// This kernel lets root create a BPF map (tests that assert load verdicts
// need it; the ones about the transport do not).
bool bpf_usable();

// Creates the two test users when missing (homes under /home, password
// field '*' so that sshd without PAM does not see them as locked) and the
// sudoers rule (mode 0440, checked with visudo -cf). Idempotent. "" on success.
std::string ensure_test_users();

// A directory for one test, mode 0755 (test users must reach files in it),
// removed with everything in it by the destructor.
class ScratchDir {
public:
    explicit ScratchDir(std::string_view prefix = "bpfleet-ssh-test");
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    [[nodiscard]] const fs::path& path() const { return m_path; }

private:
    fs::path m_path;
};

struct ClientKey {
    std::string type; // ed25519, ecdsa, rsa
    fs::path private_key;
    fs::path public_key;
    std::string error; // empty when made
};
// ssh-keygen -t TYPE -N '' into dir/name (name defaults to id_TYPE); with a
// passphrase, the key is then rewritten encrypted in PEM format (rsa, ecdsa).
ClientKey make_client_key(const fs::path& dir, const std::string& type,
                          const std::string& name = "", const std::string& passphrase = "");

struct SshdOptions {
    std::vector<std::string> extra_config; // sshd_config lines, appended as given
    std::string log_level = "DEBUG1";
    // SetEnv SHLVL=1: bash then skips ~/.bashrc for commands run over ssh
    // (root's may run something slow; tests measure bpfleet, not that).
    bool skip_bashrc = true;
};

// The ForceCommand wrapper that makes every command of a session start
// `seconds` later (the controller runs several commands per host).
std::string slow_force_command(double seconds);

class SshdFixture {
public:
    // Starts sshd in `dir` (created). Check ok()/error() afterwards.
    explicit SshdFixture(fs::path dir, SshdOptions options = {});
    ~SshdFixture();
    SshdFixture(const SshdFixture&) = delete;
    SshdFixture& operator=(const SshdFixture&) = delete;

    [[nodiscard]] bool ok() const { return m_error.empty(); }
    [[nodiscard]] const std::string& error() const { return m_error; }
    [[nodiscard]] int port() const { return m_port; }
    // The listener's pid, -1 once stopped.
    [[nodiscard]] pid_t pid() const { return m_sshd.running() ? m_sshd.pid() : -1; }
    [[nodiscard]] const fs::path& dir() const { return m_dir; }
    [[nodiscard]] fs::path log_path() const { return m_dir / "sshd.log"; }
    [[nodiscard]] fs::path authorized_keys() const { return m_dir / "authorized_keys"; }
    // "127.0.0.1:PORT"
    [[nodiscard]] std::string endpoint() const;

    // The log so far, or from byte `offset` on (take log_size() before an action).
    [[nodiscard]] std::string log(std::size_t offset = 0) const;
    [[nodiscard]] std::size_t log_size() const;
    // How often `needle` occurs in the log from `offset` on.
    [[nodiscard]] int log_count(std::string_view needle, std::size_t offset = 0) const;

    // Lets `key` log in as any user.
    void authorize(const ClientKey& key);
    // The host key as a known_hosts line: "[127.0.0.1]:PORT ssh-ed25519 AAAA...".
    [[nodiscard]] std::string known_hosts_line() const;
    // "SHA256:..." of the current host key.
    [[nodiscard]] std::string host_key_fingerprint() const;

    // Stops sshd, makes a NEW host key and starts again on the same port.
    bool restart_with_new_host_key();
    // Stops sshd and everything below it. Idempotent.
    void stop();

    // Every process below the listener: per-connection sshd, shells, agents.
    [[nodiscard]] std::vector<pid_t> session_processes() const;
    // SIGSTOP / SIGCONT all of session_processes(); freeze returns the pids.
    std::vector<pid_t> freeze_sessions();
    void thaw(const std::vector<pid_t>& pids);

private:
    bool start();
    bool make_host_key();

    fs::path m_dir;
    SshdOptions m_options;
    int m_port = 0;
    Process m_sshd; // the listener (empty when stopped)
    std::string m_error;
};

// Runs the OpenSSH client: ssh -i KEY -p PORT -o UserKnownHostsFile=... USER@127.0.0.1 COMMAND.
// Returns its exit status; output gets stdout+stderr.
int ssh_client(const SshdFixture& sshd, const fs::path& key, const fs::path& known_hosts,
               const std::string& user, const std::string& command, std::string* output,
               const std::vector<std::string>& extra_options = {});
} // namespace bpfleet::test
