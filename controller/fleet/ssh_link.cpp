#include "fleet/ssh_link.hpp"

#include "fleet/ssh_auth.hpp"
#include "fleet/ssh_conduit.hpp"
#include "fleet/tcp_connect.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <libssh/libssh.h>
#include <libssh/server.h> // ssh_send_keepalive

namespace bpfleet::fleet {

static_assert(SshLink::kAgain == SSH_AGAIN);
static_assert(SshLink::kAuthAgain == SSH_AUTH_AGAIN);

namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string seconds_text(std::chrono::milliseconds ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g s", static_cast<double>(ms.count()) / 1000.0);
    return buf;
}

} // namespace

SshLink::SshLink(asio::any_io_executor executor, inventory::Endpoint hop,
                 const SshSettings& settings)
    : m_executor(std::move(executor)), m_hop(std::move(hop)), m_label(endpoint_text(m_hop)),
      m_settings(settings), m_conduit(std::make_shared<Conduit>(m_executor)) {}

SshLink::Waiter::Waiter(SshLink& link) : m_link(link) {
    if (m_link.m_waiters++ > 0) {
        m_own.emplace(m_link.m_executor);
    }
}

SshLink::Waiter::~Waiter() {
    --m_link.m_waiters;
}

asio::steady_timer& SshLink::Waiter::timer() {
    return m_own ? *m_own : m_link.m_conduit->tick;
}

SshLink::~SshLink() {
    boost::system::error_code ignored;
    m_conduit->ssh_side.close(ignored); // our duplicate; libssh closes its own
    m_session.reset();                  // disconnects while the conduit still carries bytes
    m_ssh_fd.reset();                   // (only when no session took it)
    m_conduit->close();
}

std::optional<WaitResult> SshLink::must_stop(Deadline deadline) {
    if (m_settings.cancelled && *m_settings.cancelled) {
        return WaitResult::Cancelled;
    }
    if (!m_conduit->error.empty()) {
        return WaitResult::Lost;
    }
    const auto now = Clock::now();
    if (m_keepalive_on && m_settings.keepalive.count() > 0) {
        if (m_conduit->last_rx != m_rx_seen) {
            m_rx_seen = m_conduit->last_rx;
            m_silence = now - m_rx_seen;
        } else {
            m_silence += std::min<Clock::duration>(now - m_last_check, kMaxCountedGap);
        }
        m_last_check = now;
        if (m_silence > 3 * m_settings.keepalive) {
            m_conduit->fail(
                describe() + " sent nothing for " +
                seconds_text(std::chrono::duration_cast<std::chrono::milliseconds>(m_silence)) +
                " and did not answer keepalives: the host or the network is down");
            return WaitResult::Lost;
        }
        if (m_silence > m_settings.keepalive && now - m_last_keepalive > m_settings.keepalive) {
            ssh_send_keepalive(m_session.get());
            m_last_keepalive = now;
        }
    }
    if (now >= deadline) {
        return WaitResult::TimedOut;
    }
    return std::nullopt;
}

asio::awaitable<WaitResult> SshLink::wait(Deadline deadline) {
    logging::libssh_peer(m_label);
    if (auto stop = must_stop(deadline)) {
        co_return *stop;
    }
    if (ssh_get_poll_flags(m_session.get()) & SSH_WRITE_PENDING) {
        ssh_blocking_flush(m_session.get(), 0);
    }
    {
        // A channel's writer and reader may wait at once (the pipelined
        // conversation): the second gets a timer of its own, since re-arming
        // the first's would wake it at every turn.
        Waiter waiter(*this);
        asio::steady_timer& tick = waiter.timer();
        tick.expires_at(std::min(deadline, Clock::now() + kTick));
        co_await (m_conduit->ssh_side.async_wait(asio::posix::descriptor_base::wait_read, kTuple) ||
                  tick.async_wait(kTuple));
    }
    // The caller goes on with libssh calls for this link.
    logging::libssh_peer(m_label);
    if (auto stop = must_stop(deadline); stop && *stop != WaitResult::TimedOut) {
        co_return *stop;
    }
    co_return WaitResult::Ready;
}

asio::awaitable<WaitResult> SshLink::wait_writable(Deadline deadline) {
    logging::libssh_peer(m_label);
    ssh_blocking_flush(m_session.get(), 0);
    if (!(ssh_get_poll_flags(m_session.get()) & SSH_WRITE_PENDING)) {
        co_return WaitResult::Ready;
    }
    // A host that went silent mid-upload is lost after 3 keepalive intervals,
    // as in any other wait, not at the command's deadline.
    if (auto stop = must_stop(deadline)) {
        co_return *stop;
    }
    {
        Waiter waiter(*this);
        asio::steady_timer& tick = waiter.timer();
        tick.expires_at(std::min(deadline, Clock::now() + kTick));
        co_await (
            m_conduit->ssh_side.async_wait(asio::posix::descriptor_base::wait_write, kTuple) ||
            tick.async_wait(kTuple));
    }
    logging::libssh_peer(m_label);
    ssh_blocking_flush(m_session.get(), 0);
    co_return WaitResult::Ready;
}

HostFailure SshLink::stopped(WaitResult why, std::string_view stage, std::string_view doing) const {
    HostFailure f;
    f.stage = std::string(stage);
    switch (why) {
    case WaitResult::Cancelled:
        f.status = HostStatus::Skipped;
        f.cancelled = true;
        f.message = "cancelled while " + std::string(doing);
        break;
    case WaitResult::Lost:
        f.status = HostStatus::Unreachable;
        f.message = m_conduit->error + " (while " + std::string(doing) + ")";
        f.retryable = true;
        break;
    case WaitResult::TimedOut:
    case WaitResult::Ready:
        f.status = stage == "connect" || stage == "auth" || stage == "hostkey"
                       ? HostStatus::Unreachable
                       : HostStatus::Timeout;
        f.message = "timed out while " + std::string(doing) + " (" + describe() + ")";
        // The host took the connection but was slow to finish the handshake or
        // the login: an overloaded sshd (MaxStartups, a busy board) is worth
        // another try. A command that runs out of time is not.
        f.retryable = f.status == HostStatus::Unreachable;
        break;
    }
    return f;
}

HostFailure SshLink::ssh_failure(HostStatus status, std::string_view stage, std::string_view doing,
                                 bool retryable) const {
    if (!m_conduit->error.empty()) {
        return HostFailure{HostStatus::Unreachable, std::string(stage),
                           m_conduit->error + " (while " + std::string(doing) + ")", true, false};
    }
    return HostFailure{status, std::string(stage),
                       std::string(doing) + " failed on " + describe() + ": " +
                           ssh_get_error(m_session.get()),
                       retryable, false};
}

bool SshLink::transport_ok() const {
    return m_conduit->error.empty() && ssh_is_connected(m_session.get()) != 0;
}

asio::awaitable<HostExpected<std::shared_ptr<SshLink>>>
SshLink::open(asio::any_io_executor executor, const inventory::Endpoint& hop,
              std::shared_ptr<SshLink> via, const SshSettings& settings, Deadline deadline) {
    std::shared_ptr<SshLink> link(new SshLink(executor, hop, settings));
    const std::string peer = endpoint_text(hop);
    CO_TRY_ASSIGN(link->m_ssh_fd, open_socketpair(*link->m_conduit));

    if (!via) {
        // The first hop: TCP, bounded by the connect deadline.
        CO_TRY_ASSIGN(auto tcp, co_await connect_tcp(hop, deadline, settings.cancelled));
        start_tcp_pumps(link->m_conduit, std::move(tcp), peer);
    } else {
        SshChannelPtr channel(ssh_channel_new(via->session()));
        if (!channel) {
            co_return tl::unexpected(via->ssh_failure(HostStatus::Unreachable, "connect",
                                                      "opening a channel to " + peer, true));
        }
        WaitResult why;
        int rc = co_await via->retry(
            [&] {
                return ssh_channel_open_forward(channel.get(), hop.address.c_str(), hop.port,
                                                "127.0.0.1", 0);
            },
            deadline, why);
        if (why != WaitResult::Ready || rc != SSH_OK) {
            // The jump host could not connect (reason 2, "connect failed":
            // refused, unreachable) is retried like a direct refusal; a
            // jump host that forwards nothing (reason 1) is not.
            const bool connect_failed =
                std::string_view(ssh_get_error(via->session())).find("error (2)") !=
                std::string_view::npos;
            const std::string doing =
                "asking jump host " + via->describe() + " for a connection to " + peer;
            co_return tl::unexpected(
                why != WaitResult::Ready
                    ? via->stopped(why, "connect", doing)
                    : via->ssh_failure(HostStatus::Unreachable, "connect", doing, connect_failed));
        }
        link->m_via = via;
        start_channel_pump(link->m_conduit, via, std::move(channel), peer);
    }

    CO_TRY(co_await link->handshake(deadline));
    CO_TRY(check_host_key(*link));
    CO_TRY(co_await authenticate(*link, deadline));
    co_return link;
}

asio::awaitable<HostExpected<void>> SshLink::handshake(Deadline deadline) {
    m_session.reset(ssh_new());
    if (!m_session) {
        co_return host_failure(HostStatus::AgentError, "connect",
                               "libssh: cannot create a session");
    }
    ssh_session session = m_session.get();
    // Off unless -vv; then into the controller's log (logging/log.hpp).
    int verbosity = logging::libssh_session_level();
    int no = 0;
    unsigned port = m_hop.port;
    socket_t fd = m_ssh_fd.get();
    ssh_options_set(session, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
    ssh_options_set(session, SSH_OPTIONS_HOST, m_hop.address.c_str());
    ssh_options_set(session, SSH_OPTIONS_PORT, &port);
    ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no); // the inventory already read it
    if (!m_hop.user.empty()) {
        ssh_options_set(session, SSH_OPTIONS_USER, m_hop.user.c_str());
    }
    if (const std::string& known = known_hosts(); !known.empty()) {
        ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, known.c_str());
    }
    ssh_options_set(session, SSH_OPTIONS_FD, &fd);
    ssh_set_blocking(session, 0);
    (void)m_ssh_fd.release(); // the session closes it from now on

    WaitResult why;
    int rc = co_await retry([&] { return ssh_connect(session); }, deadline, why);
    if (why != WaitResult::Ready) {
        co_return tl::unexpected(stopped(why, "connect", "negotiating SSH with " + describe()));
    }
    if (rc != SSH_OK) {
        co_return tl::unexpected(
            ssh_failure(HostStatus::Unreachable, "connect", "the SSH handshake", true));
    }
    co_return HostExpected<void>{};
}

} // namespace bpfleet::fleet
