// The bpfleet command line run as a subprocess (BPFLEET_CLI_PATH), as a
// user would: its stdout and stderr in files, HOME a scratch folder, no
// ssh-agent, optionally under a pty (script(1)). A CliProcess kills what it
// started when it goes.
#pragma once

#include "ssh/local_processes.hpp"

#include <string>
#include <vector>

namespace bpfleet::test {

inline constexpr const char* kScript = "/usr/bin/script";

struct CliResult {
    std::string command; // "bpfleet ARGS..."
    int exit_code = -1;  // -1 when killed by a signal or timed out
    int term_signal = 0; // the signal that ended it, 0 when it exited
    bool timed_out = false;
    double seconds = 0;
    std::string out;
    std::string err;
    // The command, status, stdout and stderr, for failure messages.
    [[nodiscard]] std::string describe() const;
};

// `bpfleet ARGS` (BPFLEET_CLI_PATH) in the background. Its stdout and stderr
// go to files under `scratch`; HOME is `scratch`/home (so that no
// ~/.ssh/config, default key or known_hosts of the machine's user is used)
// and SSH_AUTH_SOCK is unset. It runs in a process group of its own, which
// the destructor (a Process) SIGKILLs if still running.
class CliProcess {
public:
    // `terminal`: under script(1), so that bpfleet has a controlling
    // terminal (a pty); what it writes there lands in `out`.
    CliProcess(std::vector<std::string> args, const fs::path& scratch, bool terminal = false);

    [[nodiscard]] pid_t pid() const { return m_process.pid(); }
    // True until it has exited (reaps it then).
    bool running();
    // `sig` to bpfleet itself (not its group), until it has been reaped.
    void signal(int sig);
    // Waits for the end, SIGKILLing it after timeout_s.
    CliResult wait(int timeout_s);
    // What it wrote so far.
    [[nodiscard]] std::string out_so_far() const { return read_text(m_out); }
    [[nodiscard]] std::string err_so_far() const { return read_text(m_err); }

private:
    std::vector<std::string> m_args;
    fs::path m_out;
    fs::path m_err;
    std::string m_start_error; // why it could not be started ("" when it was)
    Process m_process;
    double m_started = 0;
};

// Runs `bpfleet ARGS` to the end (see CliProcess).
CliResult run_bpfleet(const std::vector<std::string>& args, const fs::path& scratch,
                      int timeout_s = 150);

} // namespace bpfleet::test
