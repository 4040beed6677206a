// Process: one child process, started by exec or by running a function in a
// fork, with optional pipes for its standard streams.
//
//   Process::spawn({"/usr/bin/tar", "-tf", path}, {.out = Stdio::pipe()})
//   Process::fork_call([&] { return do_risky_parse(); }, {.out = Stdio::pipe()})
//   run_process(argv, {.input = text, .timeout = 10s})   // all at once
//
// Ownership: a Process owns the child until it is reaped. Its destructor kills
// (SIGKILL) and reaps a child still running, so a Process never leaves a
// zombie; `release()` hands the pid over to a caller that reaps it another way.
// The parent's ends of the pipes are Fds the caller may take (`take_stdout()`)
// to read with poll() or to give to an event loop (Asio's stream_descriptor).
//
// Descriptors: every descriptor this module makes is close-on-exec; an exec'd
// child gets only fds 0-2 (and, with `close_other_fds`, nothing above 2 even if
// a caller leaked one without O_CLOEXEC). A function child keeps the parent's
// descriptors except the parent's ends of its own pipes, unless
// `close_other_fds` is set (`keep_fds` survive that).
//
// Threads: spawn() is safe in a multi-threaded program (the child only makes
// async-signal-safe calls before exec). fork_call() runs arbitrary code in the
// child, which is only safe when the caller is single-threaded (the agent).
// A Process object is not thread-safe.
//
// Errors: pipe, fork and exec failures (including "no such program", reported
// through a close-on-exec pipe from the child) are Results with code "system".
#pragma once

#include "common/fd.hpp"
#include "common/result.hpp"

#include <chrono>
#include <csignal>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace bpfleet {

// What the child's stdin, stdout or stderr is.
struct Stdio {
    enum class Kind {
        Inherit, // the parent's own
        Null,    // /dev/null
        Pipe,    // a pipe; the parent's end is in the Process
        Fd,      // a descriptor of the parent's (which keeps owning it)
    };
    Kind kind = Kind::Inherit;
    int fd = -1;

    static Stdio inherit() { return {}; }
    static Stdio null() { return {Kind::Null, -1}; }
    static Stdio pipe() { return {Kind::Pipe, -1}; }
    static Stdio use(int fd) { return {Kind::Fd, fd}; }
};

struct SpawnOptions {
    Stdio in = Stdio::null();
    Stdio out = Stdio::inherit();
    Stdio err = Stdio::inherit();
    // stderr goes where stdout goes (after stdout is set up): one stream.
    bool err_to_out = false;
    // setpgid(0, 0): a Ctrl-C on the terminal does not reach the child, and
    // kill() signals the whole group (a sudo in between does not pass SIGKILL on).
    bool new_process_group = false;
    // setsid(): the child outlives a signal to the parent's group or session.
    bool new_session = false;
    // PR_SET_PDEATHSIG(SIGKILL): the child dies when the parent thread does.
    bool die_with_parent = false;
    // Close every descriptor above 2 in the child except `keep_fds` (exec'd
    // children: close-on-exec already does this for everything made here).
    bool close_other_fds = false;
    std::vector<int> keep_fds{};
    // SIGPIPE back to the default action in the child (a parent that ignores
    // it passes that on through exec).
    bool default_sigpipe = true;
};

// How a child ended.
struct ExitStatus {
    int raw = 0; // as waitpid() gives it

    [[nodiscard]] bool exited() const;
    [[nodiscard]] int code() const;      // exit code, -1 when killed by a signal
    [[nodiscard]] bool signaled() const; // killed by a signal
    [[nodiscard]] int signal() const;    // the signal, 0 when it exited
    [[nodiscard]] bool success() const { return exited() && code() == 0; }
    // "exited with status 3", "killed by signal 9 (Killed)".
    [[nodiscard]] std::string describe() const;
};

class Process {
public:
    // execvp(argv[0], argv): a name without '/' is looked up in PATH.
    static Result<Process> spawn(const std::vector<std::string>& argv,
                                 const SpawnOptions& options = {});
    // Runs `child` in a forked copy of this process; its return value is the
    // exit status (an exception escaping it exits with 127). The child never
    // returns into the caller's code and runs no atexit handlers.
    static Result<Process> fork_call(const std::function<int()>& child,
                                     const SpawnOptions& options = {});

    Process() = default; // no child
    Process(Process&& other) noexcept;
    Process& operator=(Process&& other) noexcept;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    ~Process();

    [[nodiscard]] pid_t pid() const { return m_pid; }
    // True until the child has been reaped (or released).
    [[nodiscard]] bool running() const { return m_pid > 0 && !m_status; }

    // The parent's ends of the pipes asked for (else empty Fds). Closing the
    // stdin one tells the child its input has ended.
    Fd& stdin_fd() { return m_in; }
    Fd& stdout_fd() { return m_out; }
    Fd& stderr_fd() { return m_err; }
    [[nodiscard]] Fd take_stdin() { return std::move(m_in); }
    [[nodiscard]] Fd take_stdout() { return std::move(m_out); }
    [[nodiscard]] Fd take_stderr() { return std::move(m_err); }

    // Sends `sig` to the child, or to its group when it has its own
    // (new_process_group). Does nothing once the child has been reaped, so a
    // reused pid is never hit.
    void kill(int sig = SIGKILL) const;

    // Reaps the child if it has ended; never blocks.
    std::optional<ExitStatus> try_wait();
    // Blocks until the child ends.
    ExitStatus wait();
    // Waits at most `timeout`; nullopt while the child is still running.
    std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout);
    // kill(SIGKILL) unless it has ended, then wait().
    ExitStatus kill_and_wait();

    // The status once reaped.
    [[nodiscard]] const std::optional<ExitStatus>& status() const { return m_status; }

    // Stops owning the child: the destructor no longer kills or reaps it, and
    // the pipes stay with this object. Returns the pid (-1 when none).
    pid_t release();

private:
    static Result<Process> start(const std::vector<std::string>* argv,
                                 const std::function<int()>* child, const SpawnOptions& options);

    pid_t m_pid = -1;
    bool m_own_group = false;
    std::optional<ExitStatus> m_status;
    Fd m_in;
    Fd m_out;
    Fd m_err;
};

struct RunOptions {
    std::string_view input{};                  // written to stdin, then stdin is closed
    std::chrono::milliseconds timeout{60'000}; // then SIGKILL
    std::size_t max_output = 64u << 20;        // per stream; more is read and dropped
    bool new_process_group = false;
    bool err_to_out = false; // stderr into `out`
};

struct RunOutput {
    std::string out;
    std::string err;
    ExitStatus status;
    bool timed_out = false;
    bool output_truncated = false;
};

// Runs argv to completion: feeds `input`, collects stdout and stderr at the
// same time (a child that fills one pipe while its input is still being
// written cannot deadlock it), and kills it at the timeout. The error case is
// only for a child that could not be started.
Result<RunOutput> run_process(const std::vector<std::string>& argv, const RunOptions& options = {});

// The same for a started Process with pipes: feeds, collects, reaps. The
// Process's pipe ends are consumed.
RunOutput communicate(Process& process, const RunOptions& options = {});

} // namespace bpfleet
