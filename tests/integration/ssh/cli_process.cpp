#include "ssh/cli_process.hpp"

#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace bpfleet::test {
namespace {

using namespace std::chrono_literals;

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// `word` quoted for /bin/sh.
std::string shell_word(const std::string& word) {
    std::string out = "'";
    for (char ch : word) {
        out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    }
    return out + "'";
}

} // namespace

std::string CliResult::describe() const {
    std::ostringstream s;
    s << "$ " << command << "\n";
    if (timed_out) {
        s << "timed out";
    } else if (term_signal) {
        s << "killed by signal " << term_signal;
    } else {
        s << "exited " << exit_code;
    }
    s << " after " << seconds << " s\n--- stdout ---\n"
      << text_tail(out, 12000) << "\n--- stderr ---\n"
      << text_tail(err, 12000) << "\n--------------";
    return s.str();
}

CliProcess::CliProcess(std::vector<std::string> args, const fs::path& scratch, bool terminal)
    : m_args(std::move(args)) {
    static int counter = 0;
    auto dir = scratch / ("cli-" + std::to_string(++counter));
    fs::create_directories(dir);
    fs::create_directories(scratch / "home");
    m_out = dir / "stdout";
    m_err = dir / "stderr";
    std::vector<std::string> argv{BPFLEET_CLI_PATH};
    argv.insert(argv.end(), m_args.begin(), m_args.end());
    if (terminal) {
        std::string line;
        for (const auto& a : argv) {
            line += (line.empty() ? "" : " ") + shell_word(a);
        }
        argv = {kScript, "-q", "-e", "-c", line, "/dev/null"};
    }
    {
        std::ofstream cmd(dir / "command");
        for (const auto& a : argv) {
            cmd << a << "\n";
        }
    }
    m_started = now_seconds();
    m_pid =
        spawn_logged(argv, m_out, m_err,
                     {{"HOME", (scratch / "home").string()}, {"SSH_AUTH_SOCK", ""}}, SIGKILL, true);
}

CliProcess::~CliProcess() {
    if (m_pid > 0 && !m_reaped) {
        ::kill(-m_pid, SIGKILL);
        ::kill(m_pid, SIGKILL);
        ::waitpid(m_pid, nullptr, 0);
    }
}

bool CliProcess::running() {
    if (m_reaped || m_pid <= 0) {
        return false;
    }
    if (::waitpid(m_pid, &m_status, WNOHANG) == m_pid) {
        m_reaped = true;
        return false;
    }
    return true;
}

void CliProcess::signal(int sig) {
    if (!m_reaped && m_pid > 0) {
        ::kill(m_pid, sig);
    }
}

CliResult CliProcess::wait(int timeout_s) {
    CliResult r;
    if (m_pid <= 0) {
        r.err = "fork failed";
        return r;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (running()) {
        if (std::chrono::steady_clock::now() > deadline) {
            r.timed_out = true;
            ::kill(-m_pid, SIGKILL);
            ::kill(m_pid, SIGKILL);
            ::waitpid(m_pid, &m_status, 0);
            m_reaped = true;
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    r.seconds = now_seconds() - m_started;
    if (!r.timed_out) {
        if (WIFEXITED(m_status)) {
            r.exit_code = WEXITSTATUS(m_status);
        } else if (WIFSIGNALED(m_status)) {
            r.term_signal = WTERMSIG(m_status);
        }
    }
    r.out = read_text(m_out);
    r.err = read_text(m_err);
    r.command = "bpfleet";
    for (const auto& a : m_args) {
        r.command += " " + a;
    }
    return r;
}

CliResult run_bpfleet(const std::vector<std::string>& args, const fs::path& scratch,
                      int timeout_s) {
    CliProcess process(args, scratch);
    return process.wait(timeout_s);
}

} // namespace bpfleet::test
