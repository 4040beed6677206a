#include "common/subprocess.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bpfleet {
namespace {

using Clock = std::chrono::steady_clock;

tl::unexpected<Error> system_error(const std::string& what, int err) {
    return make_error("system", what + ": " + std::strerror(err), err);
}

// The highest descriptor number a close-everything fallback has to cover.
int max_fd_to_close() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
        return static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1u << 16));
    }
    return 1 << 16;
}

// Closes [first, last] in the child: close_range (Linux 5.9), else one by one.
void close_fds_between(int first, int last, int max_fd) {
    if (first > last) {
        return;
    }
#ifdef SYS_close_range
    if (syscall(SYS_close_range, static_cast<unsigned>(first), static_cast<unsigned>(last), 0) ==
        0) {
        return;
    }
#endif
    for (int fd = first; fd <= std::min(last, max_fd); ++fd) {
        ::close(fd);
    }
}

// Everything the child needs, made before fork so that the child only makes
// async-signal-safe calls.
struct ChildPlan {
    std::array<int, 3> source{-1, -1, -1}; // the descriptor that becomes fd 0, 1, 2 (-1: keep)
    std::array<int, 8> close_after{};      // the parent's ends and the originals, closed
    int close_count = 0;
    bool err_to_out = false;
    bool new_process_group = false;
    bool new_session = false;
    bool die_with_parent = false;
    bool default_sigpipe = true;
    bool close_other_fds = false;
    std::vector<int> keep_fds; // sorted
    int max_fd = 0;
    pid_t parent = 0;
    int exec_error_fd = -1; // write end of the exec-error pipe
    char* const* argv = nullptr;
};

[[noreturn]] void child_fail(int exec_error_fd, int err) {
    if (exec_error_fd >= 0) {
        (void)!::write(exec_error_fd, &err, sizeof err);
    }
    _exit(127);
}

// In the child, after fork: sets up the process, then returns to exec or to
// the function. Async-signal-safe calls only.
void prepare_child(const ChildPlan& plan) {
    if (plan.new_session) {
        setsid();
    } else if (plan.new_process_group) {
        setpgid(0, 0);
    }
    if (plan.die_with_parent) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != plan.parent) {
            _exit(127); // the parent died before the line above
        }
    }
    // Move every source above 2 first, so that setting fd 0 cannot overwrite
    // the source of fd 1 (a parent started with fd 0 closed gets pipes at 0).
    std::array<int, 3> source = plan.source;
    for (int& fd : source) {
        if (fd >= 0 && fd < 3) {
            fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
            if (fd < 0) {
                child_fail(plan.exec_error_fd, errno);
            }
        }
    }
    for (int target = 0; target < 3; ++target) {
        if (source[target] >= 0 && dup2(source[target], target) < 0) {
            child_fail(plan.exec_error_fd, errno);
        }
    }
    if (plan.err_to_out && dup2(1, 2) < 0) {
        child_fail(plan.exec_error_fd, errno);
    }
    for (int i = 0; i < plan.close_count; ++i) {
        if (plan.close_after[i] > 2) {
            ::close(plan.close_after[i]);
        }
    }
    for (int fd : source) {
        if (fd > 2) {
            ::close(fd);
        }
    }
    if (plan.close_other_fds) {
        int next = 3;
        for (int keep : plan.keep_fds) {
            if (keep >= next) {
                close_fds_between(next, keep - 1, plan.max_fd);
                next = keep + 1;
            }
        }
        close_fds_between(next, ~0U >> 1, plan.max_fd);
    }
    if (plan.default_sigpipe) {
        struct sigaction action {};
        action.sa_handler = SIG_DFL;
        sigemptyset(&action.sa_mask);
        sigaction(SIGPIPE, &action, nullptr);
    }
}

std::chrono::milliseconds left_until(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return std::max(left, std::chrono::milliseconds(0));
}

int poll_timeout(Clock::time_point deadline) {
    return static_cast<int>(std::min<long long>(left_until(deadline).count(), 1 << 30));
}

} // namespace

// ---- ExitStatus -----------------------------------------------------------

bool ExitStatus::exited() const {
    return raw >= 0 && WIFEXITED(raw);
}

int ExitStatus::code() const {
    return exited() ? WEXITSTATUS(raw) : -1;
}

bool ExitStatus::signaled() const {
    return raw >= 0 && WIFSIGNALED(raw);
}

int ExitStatus::signal() const {
    return signaled() ? WTERMSIG(raw) : 0;
}

std::string ExitStatus::describe() const {
    if (exited()) {
        return "exited with status " + std::to_string(code());
    }
    if (signaled()) {
        return "killed by signal " + std::to_string(signal()) + " (" + strsignal(signal()) + ")";
    }
    return "ended (its status was collected elsewhere)";
}

// ---- Process --------------------------------------------------------------

Result<Process> Process::spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
    if (argv.empty()) {
        return make_error("system", "no program to run");
    }
    return start(&argv, nullptr, options);
}

Result<Process> Process::fork_call(const std::function<int()>& child, const SpawnOptions& options) {
    return start(nullptr, &child, options);
}

Result<Process> Process::start(const std::vector<std::string>* argv,
                               const std::function<int()>* child, const SpawnOptions& options) {
    Process process;
    ChildPlan plan;
    // The child's ends, closed in the parent when this function returns.
    std::array<Fd, 3> child_ends;
    Fd dev_null;
    const std::array<const Stdio*, 3> stdio{&options.in, &options.out, &options.err};
    std::array<Fd*, 3> parent_ends{&process.m_in, &process.m_out, &process.m_err};
    for (int i = 0; i < 3; ++i) {
        switch (stdio[i]->kind) {
        case Stdio::Kind::Inherit:
            break;
        case Stdio::Kind::Null:
            if (!dev_null) {
                TRY_ASSIGN(dev_null, open_dev_null());
            }
            plan.source[i] = dev_null.get();
            break;
        case Stdio::Kind::Pipe: {
            Pipe pipe;
            TRY_ASSIGN(pipe, make_pipe());
            // stdin: the child reads; stdout/stderr: the child writes.
            child_ends[i] = i == 0 ? std::move(pipe.read) : std::move(pipe.write);
            *parent_ends[i] = i == 0 ? std::move(pipe.write) : std::move(pipe.read);
            plan.source[i] = child_ends[i].get();
            plan.close_after[plan.close_count++] = parent_ends[i]->get();
            break;
        }
        case Stdio::Kind::Fd:
            if (stdio[i]->fd < 0) {
                return make_error("system", "no descriptor given for a child's standard stream");
            }
            plan.source[i] = stdio[i]->fd;
            break;
        }
    }
    if (dev_null) {
        plan.close_after[plan.close_count++] = dev_null.get();
    }
    plan.err_to_out = options.err_to_out;
    plan.new_process_group = options.new_process_group;
    plan.new_session = options.new_session;
    plan.die_with_parent = options.die_with_parent;
    plan.default_sigpipe = options.default_sigpipe;
    plan.close_other_fds = options.close_other_fds;
    plan.keep_fds = options.keep_fds;
    plan.max_fd = max_fd_to_close();
    plan.parent = getpid();

    std::vector<char*> args;
    Pipe exec_error;
    if (argv) {
        for (const auto& a : *argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        plan.argv = args.data();
        TRY_ASSIGN(exec_error, make_pipe());
        plan.exec_error_fd = exec_error.write.get();
        plan.close_after[plan.close_count++] = exec_error.read.get();
        // Close-on-exec: it survives only until the exec succeeds.
        plan.keep_fds.push_back(plan.exec_error_fd);
    }
    std::sort(plan.keep_fds.begin(), plan.keep_fds.end());

    // Buffered output would otherwise be written twice (by both processes).
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        return system_error("fork", errno);
    }
    if (pid == 0) {
        prepare_child(plan);
        if (argv) {
            // A parent's blocked signals would stay blocked across exec.
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            execvp(plan.argv[0], plan.argv);
            child_fail(plan.exec_error_fd, errno);
        }
        int code = 127;
        try {
            code = (*child)();
        } catch (...) {
            code = 127;
        }
        std::fflush(nullptr);
        _exit(code & 0xff);
    }
    process.m_pid = pid;
    process.m_own_group = options.new_process_group || options.new_session;
    if (options.new_process_group) {
        setpgid(pid, pid); // also here: a kill of the group right away finds it
    }
    if (argv) {
        exec_error.write.reset();
        int err = 0;
        ssize_t n;
        do {
            n = ::read(exec_error.read.get(), &err, sizeof err);
        } while (n < 0 && errno == EINTR);
        if (n == static_cast<ssize_t>(sizeof err)) {
            process.wait();
            return system_error("cannot run " + (*argv)[0], err);
        }
    }
    return process;
}

Process::Process(Process&& other) noexcept
    : m_pid(other.m_pid), m_own_group(other.m_own_group), m_status(other.m_status),
      m_in(std::move(other.m_in)), m_out(std::move(other.m_out)), m_err(std::move(other.m_err)) {
    other.m_pid = -1;
    other.m_status.reset();
}

Process& Process::operator=(Process&& other) noexcept {
    if (this != &other) {
        if (running()) {
            kill_and_wait();
        }
        m_pid = other.m_pid;
        m_own_group = other.m_own_group;
        m_status = other.m_status;
        m_in = std::move(other.m_in);
        m_out = std::move(other.m_out);
        m_err = std::move(other.m_err);
        other.m_pid = -1;
        other.m_status.reset();
    }
    return *this;
}

Process::~Process() {
    // Our pipe ends first: a child blocked writing to us sees EPIPE, not a hang.
    m_in.reset();
    m_out.reset();
    m_err.reset();
    if (running()) {
        kill_and_wait();
    }
}

void Process::kill(int sig) const {
    if (!running()) {
        return;
    }
    // A child with a new session may not have called setsid() yet.
    if (!m_own_group || (::kill(-m_pid, sig) != 0 && errno == ESRCH)) {
        ::kill(m_pid, sig);
    }
}

std::optional<ExitStatus> Process::try_wait() {
    if (m_status || m_pid <= 0) {
        return m_status;
    }
    int status = 0;
    pid_t r;
    do {
        r = waitpid(m_pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == m_pid) {
        m_status = ExitStatus{status};
    } else if (r < 0 && errno == ECHILD) {
        m_status = ExitStatus{-1}; // reaped by someone else (SIGCHLD ignored)
    }
    return m_status;
}

ExitStatus Process::wait() {
    if (m_status || m_pid <= 0) {
        return m_status.value_or(ExitStatus{-1});
    }
    int status = 0;
    pid_t r;
    do {
        r = waitpid(m_pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    m_status = ExitStatus{r == m_pid ? status : -1};
    return *m_status;
}

std::optional<ExitStatus> Process::wait_for(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
#ifdef SYS_pidfd_open
    // Linux 5.3+: a descriptor that polls readable when the child ends.
    if (running()) {
        Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, m_pid, 0)));
        if (pidfd) {
            for (;;) {
                if (auto done = try_wait()) {
                    return done;
                }
                pollfd p{pidfd.get(), POLLIN, 0};
                int rc = poll(&p, 1, poll_timeout(deadline));
                if (rc == 0 && Clock::now() >= deadline) {
                    return try_wait();
                }
            }
        }
    }
#endif
    // Older kernels: look every few milliseconds.
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
        if (auto done = try_wait()) {
            return done;
        }
        auto left = left_until(deadline);
        if (left.count() == 0) {
            return std::nullopt;
        }
        timespec ts{0, static_cast<long>(std::min(pause, left).count() * 1'000'000)};
        nanosleep(&ts, nullptr);
        pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
}

ExitStatus Process::kill_and_wait() {
    if (auto done = try_wait()) {
        return *done;
    }
    kill(SIGKILL);
    return wait();
}

pid_t Process::release() {
    pid_t pid = m_status ? -1 : m_pid;
    m_pid = -1;
    m_status.reset();
    return pid;
}

// ---- communicate ----------------------------------------------------------

RunOutput communicate(Process& process, const RunOptions& options) {
    RunOutput result;
    const auto deadline = Clock::now() + options.timeout;
    Fd in = process.take_stdin();
    Fd out = process.take_stdout();
    Fd err = process.take_stderr();
    std::string_view input = options.input;
    if (in && input.empty()) {
        in.reset();
    }
    if (in) {
        int flags = fcntl(in.get(), F_GETFL);
        fcntl(in.get(), F_SETFL, flags | O_NONBLOCK);
    }
    // A child that stops reading makes write() fail with EPIPE: the signal is
    // blocked here and the one pending is taken back before returning.
    sigset_t pipe_set;
    sigset_t old_mask;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
    bool got_epipe = false;

    auto drain = [&](Fd& fd, std::string& into) {
        char buf[65536];
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            return;
        }
        if (n <= 0) {
            fd.reset();
            return;
        }
        std::size_t keep = std::min(static_cast<std::size_t>(n),
                                    options.max_output - std::min(options.max_output, into.size()));
        into.append(buf, keep);
        if (keep < static_cast<std::size_t>(n)) {
            result.output_truncated = true;
        }
    };

    while (in || out || err) {
        std::array<pollfd, 3> fds{};
        std::array<int, 3> which{};
        nfds_t count = 0;
        if (in) {
            fds[count] = {in.get(), POLLOUT, 0};
            which[count++] = 0;
        }
        if (out) {
            fds[count] = {out.get(), POLLIN, 0};
            which[count++] = 1;
        }
        if (err) {
            fds[count] = {err.get(), POLLIN, 0};
            which[count++] = 2;
        }
        int rc = poll(fds.data(), count, poll_timeout(deadline));
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        if (rc == 0 && Clock::now() >= deadline) {
            result.timed_out = true;
            break;
        }
        for (nfds_t i = 0; i < count; ++i) {
            if (fds[i].revents == 0) {
                continue;
            }
            if (which[i] == 0) {
                ssize_t n =
                    ::write(in.get(), input.data(), std::min<std::size_t>(input.size(), 1 << 16));
                if (n > 0) {
                    input.remove_prefix(static_cast<std::size_t>(n));
                } else if (n < 0 && errno == EPIPE) {
                    got_epipe = true;
                }
                if (input.empty() || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                    in.reset();
                }
            } else {
                drain(which[i] == 1 ? out : err, which[i] == 1 ? result.out : result.err);
            }
        }
    }
    in.reset();
    out.reset();
    err.reset();
    if (got_epipe) {
        const timespec zero{0, 0};
        sigtimedwait(&pipe_set, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);

    if (!result.timed_out) {
        if (auto done = process.wait_for(left_until(deadline))) {
            result.status = *done;
            return result;
        }
        result.timed_out = true;
    }
    result.status = process.kill_and_wait();
    return result;
}

Result<RunOutput> run_process(const std::vector<std::string>& argv, const RunOptions& options) {
    SpawnOptions spawn;
    spawn.in = options.input.empty() ? Stdio::null() : Stdio::pipe();
    spawn.out = Stdio::pipe();
    spawn.err = options.err_to_out ? Stdio::inherit() : Stdio::pipe();
    spawn.err_to_out = options.err_to_out;
    spawn.new_process_group = options.new_process_group;
    TRY_ASSIGN(auto process, Process::spawn(argv, spawn));
    return communicate(process, options);
}

} // namespace bpfleet
