// SSH for the fleet runner: libssh sessions driven by a Boost.Asio event loop.
//
// SshLink owns one libssh session (one hop) in non-blocking mode. libssh never
// touches the network itself: its socket is one end of a socketpair, and a
// pump coroutine copies bytes between the other end and the upstream — a TCP
// connection made with Asio (first hop) or a direct-tcpip channel of the
// previous hop's session (jump hosts, chained). That gives every hop the same
// bounded, cancellable waits, and tells exactly when bytes last arrived, which
// is what the keepalive check needs to notice a host that died mid-run.
//
// ExecChannel is one "exec" channel on a link: a remote command with its
// stdin, stdout, stderr and exit status.
//
// Everything here runs on one thread (the io_context's); nothing is
// thread-safe, and libssh sessions are never shared across threads. Every
// wait is bounded by a deadline and by the run's cancel flag; failures come
// back as HostFailure with the stage (connect, hostkey, auth, run).
#pragma once

#include "fleet/host_failure.hpp"
#include "inventory/inventory.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

struct ssh_session_struct;
struct ssh_channel_struct;

namespace bpfleet::fleet {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// Settings shared by every link of a run.
struct SshSettings {
    std::string known_hosts;                     // checked, and appended to under accept-new
    std::chrono::milliseconds keepalive{15'000}; // 0: off; 3 silent intervals = lost
    const bool* cancelled = nullptr;             // the run's cancel flag (SIGINT/SIGTERM)
};

enum class WaitResult { Ready, TimedOut, Cancelled, Lost };

struct Conduit;

class SshLink {
public:
    // Connects to `hop` — over TCP when `via` is null, else through a
    // direct-tcpip channel of `via` — then checks the host key against the
    // hop's policy and authenticates (identity files, else ssh-agent and the
    // default keys). `deadline` bounds all of it.
    static asio::awaitable<HostExpected<std::shared_ptr<SshLink>>>
    open(asio::any_io_executor executor, const inventory::Endpoint& hop,
         std::shared_ptr<SshLink> via, const SshSettings& settings, Deadline deadline);

    SshLink(const SshLink&) = delete;
    SshLink& operator=(const SshLink&) = delete;
    ~SshLink();

    [[nodiscard]] ssh_session_struct* session() const { return m_session; }
    [[nodiscard]] const inventory::Endpoint& hop() const { return m_hop; }
    // "user@address:port" (or the jump label), for messages.
    [[nodiscard]] std::string describe() const;

    // Returns once libssh may make progress (its socket is readable), after a
    // short tick, or with the reason it must stop. Flushes pending output and
    // sends keepalives while waiting.
    asio::awaitable<WaitResult> wait(Deadline deadline);
    // Returns once libssh's output buffer has gone to the socket (or why not).
    asio::awaitable<WaitResult> wait_writable(Deadline deadline);
    // Turns keepalives on (after authentication: the link carries the run).
    void enable_keepalive() { m_keepalive_on = true; }

    // Calls `op` until it stops answering `again` (SSH_AGAIN, or
    // SSH_AUTH_AGAIN for authentication calls), waiting in between. Returns
    // its last return code, or the reason the wait stopped.
    template <typename Op>
    asio::awaitable<int> retry(Op op, Deadline deadline, WaitResult& why, int again = kAgain) {
        for (;;) {
            int rc = op();
            if (rc != again) {
                why = WaitResult::Ready;
                co_return rc;
            }
            why = co_await wait(deadline);
            if (why != WaitResult::Ready) {
                co_return rc;
            }
        }
    }

    // The failure for a wait that stopped (`why` != Ready) in `stage`.
    [[nodiscard]] HostFailure stopped(WaitResult why, std::string_view stage,
                                      std::string_view doing) const;
    // The failure for a libssh error in `stage`, with libssh's message.
    [[nodiscard]] HostFailure ssh_failure(HostStatus status, std::string_view stage,
                                          std::string_view doing, bool retryable) const;
    // The connection to the host still carries bytes (a channel error then
    // comes from the remote command, not from the network).
    [[nodiscard]] bool transport_ok() const;

    static constexpr int kAgain = -2;    // SSH_AGAIN, without libssh.h in this header
    static constexpr int kAuthAgain = 4; // SSH_AUTH_AGAIN

private:
    SshLink(asio::any_io_executor executor, inventory::Endpoint hop, const SshSettings& settings);

    // Why a wait must end now (cancelled, upstream lost or silent for 3
    // keepalive intervals, past `deadline`), else nothing; sends the keepalive
    // when one is due.
    std::optional<WaitResult> must_stop(Deadline deadline);

    asio::awaitable<HostExpected<void>> handshake(Deadline deadline);
    HostExpected<void> check_host_key();
    asio::awaitable<HostExpected<void>> authenticate(Deadline deadline);

    asio::any_io_executor m_executor;
    inventory::Endpoint m_hop;
    const SshSettings& m_settings;
    ssh_session_struct* m_session = nullptr;
    int m_ssh_fd = -1; // libssh's end of the socketpair (libssh closes it)
    std::shared_ptr<Conduit> m_conduit;
    std::shared_ptr<SshLink> m_via; // kept alive while this hop uses it
    bool m_keepalive_on = false;
    Clock::time_point m_last_keepalive{};
};

// One remote command on a link.
class ExecChannel {
public:
    static asio::awaitable<HostExpected<std::unique_ptr<ExecChannel>>>
    open(std::shared_ptr<SshLink> link, std::string command, std::string_view stage,
         Deadline deadline);

    ExecChannel(const ExecChannel&) = delete;
    ExecChannel& operator=(const ExecChannel&) = delete;
    ~ExecChannel();

    // Writes every byte to the command's stdin (respecting the channel window).
    asio::awaitable<HostExpected<void>> write_all(std::string_view bytes, Deadline deadline);
    asio::awaitable<HostExpected<void>> send_eof(Deadline deadline);
    // Some stdout bytes; 0 at end of output. Stderr is collected on the way.
    asio::awaitable<HostExpected<std::size_t>> read_some(std::span<char> buffer, Deadline deadline);
    // All of stdout up to EOF (at most `limit` bytes, else an agent_error).
    asio::awaitable<HostExpected<std::string>> read_all(std::size_t limit, Deadline deadline);
    // The exit status once the command has ended (-1 when it was killed by a signal).
    asio::awaitable<HostExpected<int>> exit_status(Deadline deadline);

    // What the command wrote to stderr so far (the first 64 KiB).
    [[nodiscard]] const std::string& stderr_text() const { return m_stderr; }

private:
    ExecChannel(std::shared_ptr<SshLink> link, ssh_channel_struct* channel, std::string stage)
        : m_link(std::move(link)), m_channel(channel), m_stage(std::move(stage)) {}
    void drain_stderr();
    // A channel error while `doing`: the remote command's end (agent_error,
    // never retried, with its stderr) while the connection is fine, else the
    // connection's failure.
    HostFailure channel_failure(std::string_view doing);

    std::shared_ptr<SshLink> m_link;
    ssh_channel_struct* m_channel = nullptr;
    std::string m_stage;
    std::string m_stderr;
};

// Quotes `word` for a POSIX shell.
std::string shell_quote(std::string_view word);

} // namespace bpfleet::fleet
