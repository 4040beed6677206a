// Process and run_process against real programs (/bin/sh, cat, sleep): exit
// codes, signals, timeouts, kills, outputs large enough to deadlock a reader
// that does one stream at a time, descriptors that must not leak into a child,
// and children that must never stay zombies.
#include "common/subprocess.hpp"

#include <chrono>
#include <csignal>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <poll.h>
#include <set>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace bpfleet {
namespace {

using namespace std::chrono_literals;

// True while `pid` exists, as a process or as a zombie.
bool pid_exists(pid_t pid) {
    return ::kill(pid, 0) == 0 || errno != ESRCH;
}

// The state letter in /proc/PID/stat ('Z' for a zombie), '\0' when gone.
char proc_state(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    std::getline(in, stat);
    auto paren = stat.rfind(')');
    return paren == std::string::npos || paren + 2 >= stat.size() ? '\0' : stat[paren + 2];
}

std::set<int> open_fds() {
    std::set<int> fds;
    DIR* d = opendir("/proc/self/fd");
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] != '.') {
            fds.insert(std::atoi(e->d_name));
        }
    }
    fds.erase(dirfd(d));
    closedir(d);
    return fds;
}

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

TEST(Subprocess, ExitCodeAndOutput) {
    auto r = run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->out, "out\n");
    EXPECT_EQ(r->err, "err\n");
    EXPECT_TRUE(r->status.exited());
    EXPECT_EQ(r->status.code(), 3);
    EXPECT_FALSE(r->status.success());
    EXPECT_FALSE(r->timed_out);
    EXPECT_EQ(r->status.describe(), "exited with status 3");
}

TEST(Subprocess, InputIsFedAndStdinCloses) {
    auto r = run_process({"cat"}, {.input = "hello\nworld\n"});
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->out, "hello\nworld\n");
    EXPECT_TRUE(r->status.success());
}

TEST(Subprocess, ErrToOutIsOneStream) {
    auto r = run_process({"/bin/sh", "-c", "echo a; echo b >&2"}, {.err_to_out = true});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->out, "a\nb\n");
    EXPECT_EQ(r->err, "");
}

TEST(Subprocess, MissingProgramIsAnErrorNotAnExit127) {
    auto r = run_process({"/nonexistent/bpfleet-no-such-program", "x"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "system");
    EXPECT_EQ(r.error().errnum, ENOENT);
    EXPECT_NE(r.error().message.find("cannot run /nonexistent/bpfleet-no-such-program"),
              std::string::npos)
        << r.error().message;
    auto empty = Process::spawn({});
    ASSERT_FALSE(empty);
}

TEST(Subprocess, NameWithoutSlashIsLookedUpInPath) {
    auto r = run_process({"sh", "-c", "exit 0"});
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_TRUE(r->status.success());
}

// 8 MiB in, 8 MiB out and 8 MiB err at once: the child writes both outputs
// while its input is still coming. A reader that finishes writing before it
// reads, or reads one stream to the end first, blocks forever.
TEST(Subprocess, BigInputAndOutputsDoNotDeadlock) {
    const std::size_t size = 8u << 20;
    std::string input(size, 'x');
    for (std::size_t i = 0; i < size; i += 4096) {
        input[i] = static_cast<char>('a' + (i / 4096) % 26);
    }
    auto r = run_process({"/bin/sh", "-c", "tee /dev/stderr"}, {.input = input, .timeout = 60s});
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_FALSE(r->timed_out);
    EXPECT_TRUE(r->status.success()) << r->status.describe();
    EXPECT_EQ(r->out.size(), size);
    EXPECT_EQ(r->err.size(), size);
    EXPECT_TRUE(r->out == input);
    EXPECT_TRUE(r->err == input);
}

TEST(Subprocess, OutputOverTheCapIsDroppedNotBlocking) {
    auto r = run_process({"/bin/sh", "-c", "head -c 3000000 /dev/zero"},
                         {.timeout = 30s, .max_output = 1000});
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->status.success());
    EXPECT_EQ(r->out.size(), 1000u);
    EXPECT_TRUE(r->output_truncated);
}

TEST(Subprocess, ChildThatStopsReadingGetsNoSigpipeHere) {
    // `true` exits without reading: the parent's write fails with EPIPE,
    // which must neither kill this test process nor leave SIGPIPE pending.
    std::string input(4u << 20, 'y');
    auto r = run_process({"true"}, {.input = input});
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->status.success());
    sigset_t pending;
    sigpending(&pending);
    EXPECT_FALSE(sigismember(&pending, SIGPIPE));
}

TEST(Subprocess, TimeoutKillsAndReaps) {
    auto start = std::chrono::steady_clock::now();
    auto r = run_process({"sleep", "30"}, {.timeout = 300ms});
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->timed_out);
    EXPECT_TRUE(r->status.signaled());
    EXPECT_EQ(r->status.signal(), SIGKILL);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

// A shell that hands its stdout to a background sleep: the pipe stays open
// after the shell exits, and only the timeout ends the wait.
TEST(Subprocess, TimeoutAlsoCoversAGrandchildHoldingThePipe) {
    auto r = run_process({"/bin/sh", "-c", "sleep 30 & echo started"},
                         {.timeout = 500ms, .new_process_group = true});
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->timed_out);
    EXPECT_EQ(r->out, "started\n");
}

TEST(Subprocess, WaitForReportsRunningThenExit) {
    auto p = Process::spawn({"sleep", "0.3"});
    ASSERT_TRUE(p) << p.error().describe();
    EXPECT_TRUE(p->running());
    EXPECT_FALSE(p->wait_for(20ms));
    EXPECT_FALSE(p->try_wait());
    auto done = p->wait_for(20s);
    ASSERT_TRUE(done);
    EXPECT_TRUE(done->success());
    EXPECT_FALSE(p->running());
    EXPECT_EQ(p->wait().code(), 0); // reaped once; asking again is harmless
}

TEST(Subprocess, KillIsReportedAsASignal) {
    auto p = Process::spawn({"sleep", "30"});
    ASSERT_TRUE(p);
    p->kill(SIGTERM);
    auto status = p->wait();
    EXPECT_TRUE(status.signaled());
    EXPECT_EQ(status.signal(), SIGTERM);
    EXPECT_NE(status.describe().find("killed by signal 15"), std::string::npos);
    p->kill(SIGKILL); // after the reap: a no-op, never a reused pid
}

TEST(Subprocess, DestructorKillsAndReapsARunningChild) {
    pid_t pid = -1;
    {
        auto p = Process::spawn({"sleep", "30"});
        ASSERT_TRUE(p);
        pid = p->pid();
        EXPECT_EQ(proc_state(pid) == '\0', false);
    }
    EXPECT_FALSE(pid_exists(pid)) << "state " << proc_state(pid);
}

TEST(Subprocess, DestructorReapsAChildThatAlreadyExited) {
    pid_t pid = -1;
    {
        auto p = Process::spawn({"true"});
        ASSERT_TRUE(p);
        pid = p->pid();
        // Let it exit and become a zombie until the destructor reaps it.
        for (int i = 0; i < 200 && proc_state(pid) != 'Z'; ++i) {
            usleep(10000);
        }
        EXPECT_EQ(proc_state(pid), 'Z');
    }
    EXPECT_FALSE(pid_exists(pid));
}

TEST(Subprocess, MovedFromProcessOwnsNothing) {
    auto p = Process::spawn({"sleep", "30"});
    ASSERT_TRUE(p);
    Process moved = std::move(*p);
    EXPECT_FALSE(p->running()); // NOLINT(bugprone-use-after-move): the point of the test
    EXPECT_TRUE(moved.running());
    pid_t pid = moved.pid();
    moved = Process(); // the old child is killed and reaped by the assignment
    EXPECT_FALSE(pid_exists(pid));
}

TEST(Subprocess, ReleasedChildIsLeftAlone) {
    auto p = Process::spawn({"sleep", "30"});
    ASSERT_TRUE(p);
    pid_t pid = p->release();
    EXPECT_GT(pid, 0);
    p = Process();
    EXPECT_TRUE(pid_exists(pid));
    ::kill(pid, SIGKILL);
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
}

TEST(Subprocess, NewProcessGroupKillReachesGrandchildren) {
    auto p = Process::spawn({"/bin/sh", "-c", "sleep 30 & echo $!; wait"},
                            {.out = Stdio::pipe(), .new_process_group = true});
    ASSERT_TRUE(p);
    EXPECT_EQ(getpgid(p->pid()), p->pid());
    // The grandchild's pid, from the first line.
    std::string line;
    char c;
    while (::read(p->stdout_fd().get(), &c, 1) == 1 && c != '\n') {
        line += c;
    }
    pid_t grandchild = std::stoi(line);
    ASSERT_TRUE(pid_exists(grandchild));
    p->kill(SIGKILL);
    EXPECT_TRUE(p->wait().signaled());
    // The grandchild is not ours to reap: it goes to init (or a subreaper).
    for (int i = 0; i < 500 && pid_exists(grandchild) && proc_state(grandchild) != 'Z'; ++i) {
        usleep(10000);
    }
    EXPECT_TRUE(!pid_exists(grandchild) || proc_state(grandchild) == 'Z');
}

// The child's shell tests each number itself (a listing of /proc/self/fd
// would see the lister's own directory descriptor).
std::string open_in_child(const std::vector<int>& fds, bool close_other_fds) {
    std::string script = "for n in";
    for (int fd : fds) {
        script += " " + std::to_string(fd);
    }
    script += "; do [ -e /proc/self/fd/$n ] && echo $n; done; exit 0";
    auto p = Process::spawn({"/bin/sh", "-c", script},
                            {.out = Stdio::pipe(), .close_other_fds = close_other_fds});
    if (!p) {
        return "spawn failed";
    }
    std::string out = read_all(p->stdout_fd().get());
    p->wait();
    return out;
}

TEST(Subprocess, ExecdChildGetsNoOtherDescriptors) {
    // One descriptor made here (close-on-exec), one made badly without it.
    auto pipe = make_pipe();
    ASSERT_TRUE(pipe);
    int leaky = ::open("/dev/null", O_RDONLY); // deliberately no O_CLOEXEC
    ASSERT_GE(leaky, 3);
    const std::vector<int> fds{pipe->read.get(), pipe->write.get(), leaky};
    EXPECT_EQ(open_in_child(fds, false), std::to_string(leaky) + "\n")
        << "only the descriptor without O_CLOEXEC reaches the child";
    EXPECT_EQ(open_in_child(fds, true), "") << "close_other_fds closes even that one";
    ::close(leaky);
}

TEST(Subprocess, NoDescriptorLeaksInTheParent) {
    auto before = open_fds();
    for (int i = 0; i < 20; ++i) {
        auto r = run_process({"/bin/sh", "-c", "echo x; echo y >&2"}, {.input = "z"});
        ASSERT_TRUE(r);
        auto missing = run_process({"/nonexistent/prog"});
        ASSERT_FALSE(missing);
        auto p = Process::spawn({"sleep", "30"},
                                {.in = Stdio::pipe(), .out = Stdio::pipe(), .err = Stdio::pipe()});
        ASSERT_TRUE(p);
    }
    EXPECT_EQ(open_fds(), before);
}

TEST(Subprocess, ForkCallReturnsTheFunctionsStatus) {
    int captured = 41;
    auto p = Process::fork_call(
        [&] {
            const char msg[] = "from the child";
            (void)!::write(1, msg, sizeof msg - 1);
            return captured + 1;
        },
        {.out = Stdio::pipe()});
    ASSERT_TRUE(p);
    EXPECT_EQ(read_all(p->stdout_fd().get()), "from the child");
    auto status = p->wait();
    EXPECT_EQ(status.code(), 42);
}

TEST(Subprocess, ForkCallCrashIsASignal) {
    auto p = Process::fork_call([] {
        ::raise(SIGSEGV);
        return 0;
    });
    ASSERT_TRUE(p);
    auto status = p->wait();
    EXPECT_TRUE(status.signaled());
    EXPECT_EQ(status.signal(), SIGSEGV);
}

TEST(Subprocess, ForkCallExceptionExits127) {
    auto p = Process::fork_call([]() -> int { throw std::runtime_error("boom"); });
    ASSERT_TRUE(p);
    EXPECT_EQ(p->wait().code(), 127);
}

// The parent's end of a child's pipe must be closed in the child, or the
// parent would never see EOF on it while the child lives.
TEST(Subprocess, ForkCallChildHoldsNoParentPipeEnds) {
    auto p = Process::fork_call(
        [] {
            // Reads stdin to EOF: only possible if the child holds no write end.
            char buf[256];
            while (::read(0, buf, sizeof buf) > 0) {
            }
            return 0;
        },
        {.in = Stdio::pipe()});
    ASSERT_TRUE(p);
    Fd in = p->take_stdin();
    in.reset();
    auto done = p->wait_for(10s);
    ASSERT_TRUE(done) << "the child still holds its own stdin's write end";
    EXPECT_TRUE(done->success());
}

TEST(Subprocess, ForkCallCloseOtherFdsKeepsTheOnesAsked) {
    auto keep = make_pipe();
    auto other = make_pipe();
    ASSERT_TRUE(keep && other);
    const int keep_fd = keep->write.get();
    const int other_fd = other->write.get();
    auto p = Process::fork_call(
        [&] {
            bool kept = fcntl(keep_fd, F_GETFD) >= 0;
            bool closed = fcntl(other_fd, F_GETFD) < 0 && errno == EBADF;
            (void)!::write(keep_fd, kept && closed ? "y" : "n", 1);
            return 0;
        },
        {.close_other_fds = true, .keep_fds = {keep_fd}});
    ASSERT_TRUE(p);
    keep->write.reset();
    EXPECT_EQ(read_all(keep->read.get()), "y");
    EXPECT_TRUE(p->wait().success());
}

TEST(Subprocess, NewSessionChildLeadsItsSession) {
    auto p =
        Process::fork_call([] { return getsid(0) == getpid() ? 0 : 1; }, {.new_session = true});
    ASSERT_TRUE(p);
    EXPECT_EQ(p->wait().code(), 0);
}

TEST(Subprocess, StdioUseGivesTheChildADescriptor) {
    auto pipe = make_pipe();
    ASSERT_TRUE(pipe);
    auto p = Process::spawn({"/bin/sh", "-c", "echo to-the-given-fd"},
                            {.out = Stdio::use(pipe->write.get())});
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->wait().success());
    pipe->write.reset();
    EXPECT_EQ(read_all(pipe->read.get()), "to-the-given-fd\n");
}

TEST(Subprocess, NullStdinReadsEof) {
    auto r = run_process({"cat"});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->out, "");
    EXPECT_TRUE(r->status.success());
}

TEST(Subprocess, ChildGetsDefaultSigpipeAndAnEmptySignalMask) {
    // This process blocks SIGTERM and ignores SIGPIPE; the exec'd child must
    // get neither (a blocked SIGTERM would make it unkillable by `kill -TERM`).
    sigset_t set;
    sigset_t old;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    auto previous = std::signal(SIGPIPE, SIG_IGN);
    auto r = run_process({"/bin/sh", "-c", "grep -E '^(SigBlk|SigIgn)' /proc/self/status"});
    std::signal(SIGPIPE, previous);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    ASSERT_TRUE(r);
    // SIGPIPE is bit 13 (0x1000), SIGTERM bit 15 (0x4000).
    auto field = [&](const std::string& name) {
        auto pos = r->out.find(name + ":");
        return pos == std::string::npos
                   ? 0ULL
                   : std::stoull(r->out.substr(pos + name.size() + 1), nullptr, 16);
    };
    EXPECT_EQ(field("SigBlk") & 0x4000ULL, 0ULL) << r->out;
    EXPECT_EQ(field("SigIgn") & 0x1000ULL, 0ULL) << r->out;
}

TEST(Subprocess, ExitStatusDescriptions) {
    EXPECT_EQ(ExitStatus{0}.describe(), "exited with status 0");
    EXPECT_TRUE(ExitStatus{0}.success());
    ExitStatus killed{SIGKILL};
    EXPECT_TRUE(killed.signaled());
    EXPECT_EQ(killed.code(), -1);
    EXPECT_EQ(killed.describe().rfind("killed by signal 9", 0), 0u);
    ExitStatus unknown{-1};
    EXPECT_FALSE(unknown.exited());
    EXPECT_FALSE(unknown.signaled());
    EXPECT_FALSE(unknown.success());
}

} // namespace
} // namespace bpfleet
