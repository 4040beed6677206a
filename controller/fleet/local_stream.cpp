// LocalAgentStream: the agent as a child process, its pipes in the event loop.

#include "common/subprocess.hpp"
#include "fleet/agent_stream.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <csignal>
#include <unistd.h>

namespace bpfleet::fleet {

namespace {
using namespace asio::experimental::awaitable_operators;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxStderr = 64 << 10;
} // namespace

struct LocalProcess {
    explicit LocalProcess(const asio::any_io_executor& executor)
        : in(executor), out(executor), err(executor), timer(executor), write_timer(executor) {}
    Process process; // reaped by reap(), else killed and reaped when this goes
    asio::posix::stream_descriptor in;
    asio::posix::stream_descriptor out;
    asio::posix::stream_descriptor err;
    asio::steady_timer timer;
    // The writer's own: the conversation writes and reads at once, and a
    // shared timer re-armed by one would wake the other at every turn.
    asio::steady_timer write_timer;
    std::string stderr_text;
    const bool* cancelled = nullptr;
};

namespace {

asio::awaitable<void> collect_stderr(std::shared_ptr<LocalProcess> p) {
    std::vector<char> buf(4096);
    for (;;) {
        auto [ec, n] = co_await p->err.async_read_some(asio::buffer(buf), kTuple);
        if (ec) {
            co_return;
        }
        if (p->stderr_text.size() < kMaxStderr) {
            p->stderr_text.append(buf.data(), std::min(n, kMaxStderr - p->stderr_text.size()));
        }
    }
}

// Reaps the child without blocking the loop: 500 ms to end on its own after
// its stdin closed, then SIGKILL to its whole process group (sudo cannot pass
// SIGKILL on to the agent it runs), then up to 5 s more. A process that
// survives even that (stuck in the kernel) is let go: no blocking wait on
// the event loop's thread.
asio::awaitable<void> reap(std::shared_ptr<LocalProcess> p) {
    using namespace std::chrono_literals;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (int polls = 0; polls < 550 && !p->process.try_wait(); ++polls) {
        if (polls == 50) {
            p->process.kill(SIGKILL);
        }
        timer.expires_after(10ms);
        co_await timer.async_wait(kTuple);
    }
    if (p->process.running()) {
        (void)p->process.release();
    }
    boost::system::error_code ignored;
    p->err.close(ignored);
}

// Waits for `op` or the next tick; false when cancelled or past the deadline.
HostExpected<void> check_stop(const LocalProcess& p, Deadline deadline, std::string_view doing) {
    if (p.cancelled && *p.cancelled) {
        HostFailure f{HostStatus::Skipped, "run", "cancelled while " + std::string(doing), false,
                      true};
        return tl::unexpected(f);
    }
    if (Clock::now() >= deadline) {
        return host_failure(HostStatus::Timeout, "run", "timed out while " + std::string(doing));
    }
    return {};
}

} // namespace

HostExpected<std::unique_ptr<LocalAgentStream>>
LocalAgentStream::start(const asio::any_io_executor& executor, const std::vector<std::string>& argv,
                        const bool* cancelled) {
    if (argv.empty() ||
        (argv[0].find('/') != std::string::npos && access(argv[0].c_str(), X_OK) != 0)) {
        return host_failure(HostStatus::AgentError, "deploy",
                            "no executable agent at " + (argv.empty() ? std::string() : argv[0]));
    }
    SpawnOptions spawn;
    spawn.in = Stdio::pipe();
    spawn.out = Stdio::pipe();
    spawn.err = Stdio::pipe();
    // Its own process group: a Ctrl-C on the terminal reaches the controller
    // only, which then ends the agent itself (and sudo's child with it).
    spawn.new_process_group = true;
    spawn.die_with_parent = true;
    // Not the controller's other descriptors (sockets to other hosts).
    spawn.close_other_fds = true;
    auto process = Process::spawn(argv, spawn);
    if (!process) {
        return host_failure(HostStatus::AgentError, "deploy", process.error().describe());
    }
    auto p = std::make_shared<LocalProcess>(executor);
    p->cancelled = cancelled;
    p->in.assign(process->take_stdin().release());
    p->out.assign(process->take_stdout().release());
    p->err.assign(process->take_stderr().release());
    p->process = std::move(*process);
    asio::co_spawn(executor, collect_stderr(p), asio::detached);
    return std::unique_ptr<LocalAgentStream>(new LocalAgentStream(std::move(p)));
}

LocalAgentStream::~LocalAgentStream() {
    boost::system::error_code ignored;
    m_process->in.close(ignored);
    m_process->out.close(ignored);
    // Closing stdin ends `serve`; the reaper waits for that off the event
    // loop's back, and ends the process group when it takes too long.
    asio::co_spawn(m_process->timer.get_executor(), reap(m_process), asio::detached);
}

std::string LocalAgentStream::stderr_text() const {
    return m_process->stderr_text;
}

asio::awaitable<HostExpected<void>> LocalAgentStream::write(std::string_view bytes,
                                                            Deadline deadline) {
    LocalProcess& p = *m_process;
    while (!bytes.empty()) {
        CO_TRY(check_stop(p, deadline, "sending to the agent"));
        p.write_timer.expires_at(std::min(deadline, Clock::now() + kTick));
        auto done = co_await (
            p.in.async_write_some(
                asio::buffer(bytes.data(), std::min<std::size_t>(bytes.size(), 1 << 20)), kTuple) ||
            p.write_timer.async_wait(kTuple));
        if (done.index() == 0) {
            auto [ec, n] = std::get<0>(done);
            if (ec) {
                co_return host_failure(HostStatus::AgentError, "run",
                                       "the agent closed its input" +
                                           (p.stderr_text.empty()
                                                ? std::string()
                                                : ": " + p.stderr_text.substr(0, 300)));
            }
            bytes.remove_prefix(n);
        }
    }
    co_return HostExpected<void>{};
}

asio::awaitable<HostExpected<std::size_t>> LocalAgentStream::read_some(std::span<char> buffer,
                                                                       Deadline deadline) {
    LocalProcess& p = *m_process;
    for (;;) {
        CO_TRY(check_stop(p, deadline, "waiting for the agent"));
        p.timer.expires_at(std::min(deadline, Clock::now() + kTick));
        auto done =
            co_await (p.out.async_read_some(asio::buffer(buffer.data(), buffer.size()), kTuple) ||
                      p.timer.async_wait(kTuple));
        if (done.index() == 0) {
            auto [ec, n] = std::get<0>(done);
            if (ec) {
                // A signal to the whole session may have ended the agent too.
                CO_TRY(check_stop(p, Clock::time_point::max(), "waiting for the agent"));
                co_return std::size_t{0}; // EOF or a broken pipe: the agent is gone
            }
            co_return n;
        }
    }
}

} // namespace bpfleet::fleet
