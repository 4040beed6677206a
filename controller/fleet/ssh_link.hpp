// SshLink: one SSH hop for the fleet runner, a libssh session driven by the
// Boost.Asio event loop in non-blocking mode. Its bytes go through a Conduit
// (ssh_conduit.hpp): a socketpair pumped to TCP or to the previous hop's
// direct-tcpip channel. Opening a link connects, checks the host key
// (ssh_auth.hpp) and authenticates; remote commands run on it as
// ExecChannels (exec_channel.hpp).
//
// Everything here runs on one thread (the io_context's); nothing is
// thread-safe, and libssh sessions are never shared across threads. Every
// wait is bounded by a deadline and by the run's cancel flag; failures come
// back as HostFailure with the stage (connect, hostkey, auth, run).
#pragma once

#include "common/fd.hpp"
#include "fleet/deadline.hpp"
#include "fleet/host_failure.hpp"
#include "fleet/ssh_handles.hpp"
#include "inventory/inventory.hpp"
#include "logging/log.hpp"
#include "model/run_report.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bpfleet::fleet {

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

    [[nodiscard]] ssh_session_struct* session() const { return m_session.get(); }
    [[nodiscard]] const inventory::Endpoint& hop() const { return m_hop; }
    [[nodiscard]] const SshSettings& settings() const { return m_settings; }
    // The hop's own known_hosts (an inventory setting) before the run's
    // (--known-hosts, else user_ssh_dir()/known_hosts); "" only without any
    // home, then libssh's default.
    [[nodiscard]] const std::string& known_hosts() const {
        return m_hop.known_hosts.empty() ? m_settings.known_hosts : m_hop.known_hosts;
    }
    // The byte path under the session (shared with its pumps).
    [[nodiscard]] const std::shared_ptr<Conduit>& conduit() const { return m_conduit; }
    // The host key accept-new added to known_hosts while opening this link.
    [[nodiscard]] const std::optional<AddedHostKey>& added_host_key() const {
        return m_added_host_key;
    }
    void set_added_host_key(AddedHostKey key) { m_added_host_key = std::move(key); }
    // "user@address:port" (or the jump label), for messages.
    [[nodiscard]] const std::string& describe() const { return m_label; }

    // Returns once libssh may make progress (its socket is readable), after a
    // short tick, or with the reason it must stop. Flushes pending output and
    // sends keepalives while waiting.
    asio::awaitable<WaitResult> wait(Deadline deadline);
    // Returns once libssh's output buffer has gone to the socket (or why not).
    asio::awaitable<WaitResult> wait_writable(Deadline deadline);
    // Turns keepalives on (after authentication: the link carries the run).
    void enable_keepalive() {
        m_keepalive_on = true;
        m_last_check = Clock::now();
        m_silence = {};
    }

    // Calls `op` until it stops answering `again` (SSH_AGAIN, or
    // SSH_AUTH_AGAIN for authentication calls), waiting in between. Returns
    // its last return code, or the reason the wait stopped.
    template <typename Op>
    asio::awaitable<int> retry(Op op, Deadline deadline, WaitResult& why, int again = kAgain) {
        for (;;) {
            logging::libssh_peer(m_label);
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

    // The session on libssh's end of the socketpair, and the SSH handshake.
    asio::awaitable<HostExpected<void>> handshake(Deadline deadline);

    // The timer for one wait: the conduit's tick for the first waiter, a
    // timer of its own for a second one waiting at the same time.
    class Waiter {
    public:
        explicit Waiter(SshLink& link);
        ~Waiter();
        Waiter(const Waiter&) = delete;
        Waiter& operator=(const Waiter&) = delete;
        asio::steady_timer& timer();

    private:
        SshLink& m_link;
        std::optional<asio::steady_timer> m_own;
    };

    asio::any_io_executor m_executor;
    int m_waiters = 0;
    inventory::Endpoint m_hop;
    std::string m_label; // describe()
    const SshSettings& m_settings;
    std::shared_ptr<SshLink> m_via; // kept alive while this hop uses it
    std::shared_ptr<Conduit> m_conduit;
    Fd m_ssh_fd; // libssh's end of the socketpair until the session takes it
    SshSessionPtr m_session;
    std::optional<AddedHostKey> m_added_host_key;
    bool m_keepalive_on = false;
    Clock::time_point m_last_keepalive{};
    // Silence as the event loop saw it: time without bytes from the host,
    // counting at most kMaxCountedGap of each stretch in which the loop did
    // not come back here (it was busy elsewhere, e.g. parsing another host's
    // reply), so that a busy controller never declares a live host lost.
    static constexpr std::chrono::milliseconds kMaxCountedGap{1000};
    Clock::time_point m_last_check{};
    Clock::time_point m_rx_seen{};
    Clock::duration m_silence{};
};

} // namespace bpfleet::fleet
