#include "ssh/cli_process.hpp"

#include <chrono>
#include <csignal>
#include <fstream>
#include <optional>
#include <sstream>

namespace bpfleet::test {
namespace {

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
    auto started = spawn_logged(argv, m_out, m_err,
                                {{"HOME", (scratch / "home").string()}, {"SSH_AUTH_SOCK", ""}},
                                /*own_group=*/true);
    if (started) {
        m_process = std::move(*started);
    } else {
        m_start_error = started.error().describe();
    }
}

bool CliProcess::running() {
    return m_process.running() && !m_process.try_wait();
}

void CliProcess::signal(int sig) {
    if (running()) {
        ::kill(m_process.pid(), sig);
    }
}

CliResult CliProcess::wait(int timeout_s) {
    CliResult r;
    r.command = "bpfleet";
    for (const auto& a : m_args) {
        r.command += " " + a;
    }
    if (!m_start_error.empty()) {
        r.err = m_start_error;
        return r;
    }
    std::optional<ExitStatus> status = m_process.status();
    if (!status) {
        status = m_process.wait_for(std::chrono::seconds(timeout_s));
    }
    if (!status) {
        r.timed_out = true;
        m_process.kill_and_wait();
    } else if (status->exited()) {
        r.exit_code = status->code();
    } else {
        r.term_signal = status->signal();
    }
    r.seconds = now_seconds() - m_started;
    r.out = read_text(m_out);
    r.err = read_text(m_err);
    return r;
}

CliResult run_bpfleet(const std::vector<std::string>& args, const fs::path& scratch,
                      int timeout_s) {
    CliProcess process(args, scratch);
    return process.wait(timeout_s);
}

} // namespace bpfleet::test
