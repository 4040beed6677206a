#include "fleet/ssh_link.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <libssh/libssh.h>
#include <libssh/server.h> // ssh_send_keepalive
#include <mutex>
#include <netdb.h>
#include <netinet/tcp.h>
#include <optional>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace bpfleet::fleet {

static_assert(SshLink::kAgain == SSH_AGAIN);
static_assert(SshLink::kAuthAgain == SSH_AUTH_AGAIN);

namespace {

using namespace asio::experimental::awaitable_operators;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(use_awaitable);
// How long a wait sleeps at most before looking again: bounds how late a
// cancel, a deadline or a keepalive is noticed.
constexpr std::chrono::milliseconds kTick{200};
constexpr std::size_t kMaxStderr = 64 << 10;
constexpr std::size_t kWriteChunk = 64 << 10;
constexpr int kSocketBuffer = 256 << 10;

std::string seconds_text(std::chrono::milliseconds ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g s", static_cast<double>(ms.count()) / 1000.0);
    return buf;
}

} // namespace

// The byte path between libssh's socket and the upstream (TCP or a channel of
// the previous hop). Shared by the link and its pump coroutines, so that
// whichever ends last frees it.
struct Conduit {
    explicit Conduit(const asio::any_io_executor& executor)
        : ours(executor), ssh_side(executor), tick(executor) {}

    asio::local::stream_protocol::socket ours; // our end of the socketpair
    asio::posix::stream_descriptor ssh_side;   // a duplicate of libssh's end, to wait on
    std::optional<asio::ip::tcp::socket> tcp;  // the first hop's connection
    asio::steady_timer tick;
    Clock::time_point last_rx = Clock::now();
    std::string error; // why the upstream ended; "" while it carries bytes
    bool stopped = false;

    void fail(std::string why) {
        if (error.empty() && !stopped) {
            error = std::move(why);
        }
        boost::system::error_code ignored;
        // libssh reads EOF on its end and gives up at once.
        ours.shutdown(asio::socket_base::shutdown_both, ignored);
        if (tcp) {
            tcp->close(ignored);
        }
    }
    void close() {
        stopped = true;
        boost::system::error_code ignored;
        ours.close(ignored);
        if (tcp) {
            tcp->close(ignored);
        }
        tick.cancel();
    }
};

namespace {

// TCP -> libssh.
asio::awaitable<void> pump_tcp_down(std::shared_ptr<Conduit> c, std::string peer) {
    std::vector<char> buf(32768);
    for (;;) {
        auto [ec, n] = co_await c->tcp->async_read_some(asio::buffer(buf), kTuple);
        if (ec) {
            c->fail(ec == asio::error::eof ? peer + " closed the connection"
                                           : "connection to " + peer + " lost: " + ec.message());
            co_return;
        }
        c->last_rx = Clock::now();
        auto [wec, written] =
            co_await asio::async_write(c->ours, asio::buffer(buf.data(), n), kTuple);
        if (wec) {
            c->fail("connection to " + peer + " ended");
            co_return;
        }
    }
}

// libssh -> TCP.
asio::awaitable<void> pump_tcp_up(std::shared_ptr<Conduit> c, std::string peer) {
    std::vector<char> buf(32768);
    for (;;) {
        auto [ec, n] = co_await c->ours.async_read_some(asio::buffer(buf), kTuple);
        if (ec) {
            // libssh closed its end: the session is over.
            boost::system::error_code ignored;
            if (c->tcp) {
                c->tcp->shutdown(asio::socket_base::shutdown_send, ignored);
            }
            co_return;
        }
        auto [wec, written] =
            co_await asio::async_write(*c->tcp, asio::buffer(buf.data(), n), kTuple);
        if (wec) {
            c->fail("connection to " + peer + " lost: " + wec.message());
            co_return;
        }
    }
}

// Both directions between libssh's socket and a direct-tcpip channel of the
// previous hop. One coroutine: the channel is libssh state of the previous
// hop's session and is only touched here.
asio::awaitable<void> pump_channel(std::shared_ptr<Conduit> c, std::shared_ptr<SshLink> via,
                                   ssh_channel channel, std::shared_ptr<Conduit> via_conduit,
                                   std::string target) {
    std::vector<char> buf(32768);
    std::vector<char> up;
    std::size_t up_done = 0;
    boost::system::error_code ec;
    c->ours.non_blocking(true, ec);
    const std::string jump = via->describe();
    // Its own timer: c->tick belongs to the target link's waits, and arming one
    // timer from two coroutines cancels the other's wait each time (a busy loop).
    asio::steady_timer tick(co_await asio::this_coro::executor);
    while (!c->stopped && c->error.empty()) {
        bool progress = false;
        int n = ssh_channel_read_nonblocking(channel, buf.data(), buf.size(), 0);
        if (n > 0) {
            c->last_rx = Clock::now();
            auto [wec, written] = co_await asio::async_write(
                c->ours, asio::buffer(buf.data(), static_cast<std::size_t>(n)), kTuple);
            if (wec) {
                break;
            }
            progress = true;
        } else if (n == SSH_ERROR || !via_conduit->error.empty()) {
            c->fail("jump host " + jump + " lost the connection to " + target +
                    (via_conduit->error.empty() ? ": " + std::string(ssh_get_error(via->session()))
                                                : ": " + via_conduit->error));
            break;
        } else if (ssh_channel_is_eof(channel) || ssh_channel_is_closed(channel)) {
            c->fail(target + " (through jump host " + jump + ") closed the connection");
            break;
        }
        if (up_done == up.size()) {
            up.clear();
            up_done = 0;
            std::size_t got = c->ours.read_some(asio::buffer(buf), ec);
            if (!ec) {
                up.assign(buf.data(), buf.data() + got);
            } else if (ec != asio::error::would_block && ec != asio::error::try_again) {
                break; // libssh closed its end: the hop is over
            }
        }
        if (up_done < up.size()) {
            std::size_t window = ssh_channel_window_size(channel);
            std::size_t len = std::min<std::size_t>(up.size() - up_done, window);
            if (len > 0) {
                int rc =
                    ssh_channel_write(channel, up.data() + up_done, static_cast<uint32_t>(len));
                if (rc < 0) {
                    c->fail("jump host " + jump + ": " + ssh_get_error(via->session()));
                    break;
                }
                up_done += static_cast<std::size_t>(rc);
                progress = true;
            }
        }
        if (progress) {
            continue;
        }
        if (ssh_get_poll_flags(via->session()) & SSH_WRITE_PENDING) {
            ssh_blocking_flush(via->session(), 0);
        }
        tick.expires_after(kTick);
        if (up_done < up.size()) {
            co_await (
                via_conduit->ssh_side.async_wait(asio::posix::descriptor_base::wait_read, kTuple) ||
                tick.async_wait(kTuple));
        } else {
            co_await (
                via_conduit->ssh_side.async_wait(asio::posix::descriptor_base::wait_read, kTuple) ||
                c->ours.async_wait(asio::socket_base::wait_read, kTuple) ||
                tick.async_wait(kTuple));
        }
    }
    ssh_channel_close(channel);
    ssh_channel_free(channel);
    boost::system::error_code ignored;
    c->ours.shutdown(asio::socket_base::shutdown_both, ignored);
}

// Returns at the deadline or soon after the run is cancelled: the other side
// of `op || watch(...)` for operations that can't be resumed after a tick.
asio::awaitable<void> watch(Deadline deadline, const bool* cancelled) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!(cancelled && *cancelled) && Clock::now() < deadline) {
        timer.expires_at(std::min(deadline, Clock::now() + kTick));
        co_await timer.async_wait(kTuple);
    }
}

// Asked for a key's passphrase: refuses. Without a callback libssh lets
// OpenSSL prompt on the terminal for PEM keys, which would stall every host.
int refuse_passphrase(const char*, char*, size_t, int, int, void*) {
    return -1;
}

// A name lookup's answer, filled in by a lookup thread.
struct Lookup {
    std::mutex mutex;
    bool done = false;
    int error = 0; // getaddrinfo's
    std::vector<asio::ip::tcp::endpoint> endpoints;
};

// getaddrinfo blocks and cannot be interrupted, so lookups run on threads of
// their own (a few, whatever the host count; never joined, so that a lookup
// stuck on a dead DNS server cannot hold up the exit).
asio::thread_pool& lookup_threads() {
    static auto* pool = new asio::thread_pool(4);
    return *pool;
}

// The addresses of `address`:`port`. An IP address is taken as it is; a name
// is looked up on lookup_threads(), and abandoned (the thread drops the
// answer when it comes) at the deadline or on cancel.
asio::awaitable<HostExpected<std::vector<asio::ip::tcp::endpoint>>>
resolve(std::string address, int port, Deadline deadline, const bool* cancelled) {
    using Endpoints = std::vector<asio::ip::tcp::endpoint>;
    boost::system::error_code ec;
    const auto ip = asio::ip::make_address(address, ec);
    if (!ec) {
        co_return Endpoints{{ip, static_cast<unsigned short>(port)}};
    }
    auto lookup = std::make_shared<Lookup>();
    asio::post(lookup_threads(), [lookup, address, port] {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_ADDRCONFIG;
        addrinfo* found = nullptr;
        const int rc = getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found);
        Endpoints endpoints;
        for (const addrinfo* a = found; rc == 0 && a != nullptr; a = a->ai_next) {
            asio::ip::tcp::endpoint e;
            if (a->ai_addrlen <= e.capacity()) {
                std::memcpy(e.data(), a->ai_addr, a->ai_addrlen);
                e.resize(a->ai_addrlen);
                endpoints.push_back(e);
            }
        }
        if (found) {
            freeaddrinfo(found);
        }
        std::lock_guard lock(lookup->mutex);
        lookup->error = rc;
        lookup->endpoints = std::move(endpoints);
        lookup->done = true;
    });
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (auto pause = std::chrono::milliseconds(1);;
         pause = std::min(pause * 2, std::chrono::milliseconds(50))) {
        {
            std::lock_guard lock(lookup->mutex);
            if (lookup->done) {
                if (lookup->error != 0) {
                    co_return host_failure(HostStatus::Unreachable, "connect",
                                           "cannot resolve " + address + ": " +
                                               gai_strerror(lookup->error),
                                           lookup->error == EAI_AGAIN);
                }
                if (lookup->endpoints.empty()) {
                    co_return host_failure(HostStatus::Unreachable, "connect",
                                           "cannot resolve " + address + ": no address");
                }
                co_return std::move(lookup->endpoints);
            }
        }
        if (cancelled && *cancelled) {
            HostFailure f{HostStatus::Skipped, "connect", "cancelled while resolving " + address,
                          false, true};
            co_return tl::unexpected(f);
        }
        if (Clock::now() >= deadline) {
            co_return host_failure(HostStatus::Unreachable, "connect",
                                   "cannot resolve " + address +
                                       ": no answer within the connect timeout");
        }
        timer.expires_after(pause);
        co_await timer.async_wait(kTuple);
    }
}

// The hop's own known_hosts (an inventory setting) before the run's.
const std::string& known_hosts_of(const inventory::Endpoint& hop, const SshSettings& settings) {
    return hop.known_hosts.empty() ? settings.known_hosts : hop.known_hosts;
}

std::string endpoint_text(const inventory::Endpoint& hop) {
    std::string address =
        hop.address.find(':') != std::string::npos ? "[" + hop.address + "]" : hop.address;
    return (hop.user.empty() ? "" : hop.user + "@") + address + ":" + std::to_string(hop.port);
}

std::string fingerprint(ssh_key key) {
    unsigned char* hash = nullptr;
    size_t len = 0;
    if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) != 0) {
        return "?";
    }
    char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
    std::string out = text ? text : "?";
    ssh_string_free_char(text);
    ssh_clean_pubkey_hash(&hash);
    return out;
}

} // namespace

SshLink::SshLink(asio::any_io_executor executor, inventory::Endpoint hop,
                 const SshSettings& settings)
    : m_executor(std::move(executor)), m_hop(std::move(hop)), m_settings(settings),
      m_conduit(std::make_shared<Conduit>(m_executor)) {}

SshLink::~SshLink() {
    boost::system::error_code ignored;
    m_conduit->ssh_side.close(ignored); // our duplicate; libssh closes its own
    if (m_session) {
        ssh_disconnect(m_session);
        ssh_free(m_session);
    } else if (m_ssh_fd >= 0) {
        close(m_ssh_fd);
    }
    m_conduit->close();
}

std::string SshLink::describe() const {
    return endpoint_text(m_hop);
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
        if (now - m_conduit->last_rx > 3 * m_settings.keepalive) {
            m_conduit->fail(describe() + " sent nothing for " +
                            seconds_text(std::chrono::duration_cast<std::chrono::milliseconds>(
                                now - m_conduit->last_rx)) +
                            " and did not answer keepalives: the host or the network is down");
            return WaitResult::Lost;
        }
        if (now - m_conduit->last_rx > m_settings.keepalive &&
            now - m_last_keepalive > m_settings.keepalive) {
            ssh_send_keepalive(m_session);
            m_last_keepalive = now;
        }
    }
    if (now >= deadline) {
        return WaitResult::TimedOut;
    }
    return std::nullopt;
}

asio::awaitable<WaitResult> SshLink::wait(Deadline deadline) {
    if (auto stop = must_stop(deadline)) {
        co_return *stop;
    }
    if (ssh_get_poll_flags(m_session) & SSH_WRITE_PENDING) {
        ssh_blocking_flush(m_session, 0);
    }
    m_conduit->tick.expires_at(std::min(deadline, Clock::now() + kTick));
    co_await (m_conduit->ssh_side.async_wait(asio::posix::descriptor_base::wait_read, kTuple) ||
              m_conduit->tick.async_wait(kTuple));
    if (auto stop = must_stop(deadline); stop && *stop != WaitResult::TimedOut) {
        co_return *stop;
    }
    co_return WaitResult::Ready;
}

asio::awaitable<WaitResult> SshLink::wait_writable(Deadline deadline) {
    ssh_blocking_flush(m_session, 0);
    if (!(ssh_get_poll_flags(m_session) & SSH_WRITE_PENDING)) {
        co_return WaitResult::Ready;
    }
    // A host that went silent mid-upload is lost after 3 keepalive intervals,
    // as in any other wait, not at the command's deadline.
    if (auto stop = must_stop(deadline)) {
        co_return *stop;
    }
    m_conduit->tick.expires_at(std::min(deadline, Clock::now() + kTick));
    co_await (m_conduit->ssh_side.async_wait(asio::posix::descriptor_base::wait_write, kTuple) ||
              m_conduit->tick.async_wait(kTuple));
    ssh_blocking_flush(m_session, 0);
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
                           ssh_get_error(m_session),
                       retryable, false};
}

bool SshLink::transport_ok() const {
    return m_conduit->error.empty() && ssh_is_connected(m_session) != 0;
}

asio::awaitable<HostExpected<std::shared_ptr<SshLink>>>
SshLink::open(asio::any_io_executor executor, const inventory::Endpoint& hop,
              std::shared_ptr<SshLink> via, const SshSettings& settings, Deadline deadline) {
    std::shared_ptr<SshLink> link(new SshLink(executor, hop, settings));
    Conduit& c = *link->m_conduit;
    const std::string peer = endpoint_text(hop);

    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        co_return host_failure(HostStatus::AgentError, "connect",
                               std::string("socketpair: ") + std::strerror(errno));
    }
    for (int fd : pair) {
        int size = kSocketBuffer;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    // libssh writes only when poll says it can, and copes with short writes:
    // non-blocking keeps a full buffer from stalling the whole event loop.
    fcntl(pair[0], F_SETFL, fcntl(pair[0], F_GETFL) | O_NONBLOCK);
    link->m_ssh_fd = pair[0];
    c.ours.assign(asio::local::stream_protocol(), pair[1]);
    // The event loop waits on its own duplicate of libssh's end: libssh closes
    // its descriptor when a write fails, and the number may then be reused by
    // another host's socket before this link is gone.
    const int watched = fcntl(pair[0], F_DUPFD_CLOEXEC, 0);
    if (watched < 0) {
        co_return host_failure(HostStatus::AgentError, "connect",
                               std::string("dup: ") + std::strerror(errno));
    }
    c.ssh_side.assign(watched);

    if (!via) {
        // The first hop: TCP, bounded by the connect deadline.
        auto endpoints = co_await resolve(hop.address, hop.port, deadline, settings.cancelled);
        if (!endpoints) {
            co_return tl::unexpected(endpoints.error());
        }
        c.tcp.emplace(executor);
        auto connected = co_await (asio::async_connect(*c.tcp, *endpoints, kTuple) ||
                                   watch(deadline, settings.cancelled));
        if (settings.cancelled && *settings.cancelled) {
            HostFailure f{HostStatus::Skipped, "connect", "cancelled while connecting", false,
                          true};
            co_return tl::unexpected(f);
        }
        if (connected.index() == 1) {
            co_return host_failure(
                HostStatus::Unreachable, "connect",
                peer + " did not accept a TCP connection within the connect timeout");
        }
        if (auto [cec, endpoint] = std::get<0>(connected); cec) {
            bool retry = cec == asio::error::connection_refused ||
                         cec == asio::error::connection_reset ||
                         cec == asio::error::host_unreachable ||
                         cec == asio::error::network_unreachable || cec == asio::error::timed_out;
            co_return host_failure(HostStatus::Unreachable, "connect",
                                   "cannot connect to " + peer + ": " + cec.message(), retry);
        }
        boost::system::error_code ignored;
        c.tcp->set_option(asio::ip::tcp::no_delay(true), ignored);
        c.tcp->set_option(asio::socket_base::keep_alive(true), ignored);
        auto conduit = link->m_conduit;
        asio::co_spawn(executor, pump_tcp_down(conduit, peer), asio::detached);
        asio::co_spawn(executor, pump_tcp_up(conduit, peer), asio::detached);
    } else {
        ssh_channel channel = ssh_channel_new(via->session());
        if (!channel) {
            co_return tl::unexpected(via->ssh_failure(HostStatus::Unreachable, "connect",
                                                      "opening a channel to " + peer, true));
        }
        WaitResult why;
        int rc = co_await via->retry(
            [&] {
                return ssh_channel_open_forward(channel, hop.address.c_str(), hop.port, "127.0.0.1",
                                                0);
            },
            deadline, why);
        if (why != WaitResult::Ready || rc != SSH_OK) {
            // The jump host could not connect (reason 2, "connect failed":
            // refused, unreachable) is retried like a direct refusal; a
            // jump host that forwards nothing (reason 1) is not.
            const bool connect_failed =
                std::string_view(ssh_get_error(via->session())).find("error (2)") !=
                std::string_view::npos;
            HostFailure f = why != WaitResult::Ready
                                ? via->stopped(why, "connect",
                                               "asking jump host " + via->describe() +
                                                   " for a connection to " + peer)
                                : via->ssh_failure(HostStatus::Unreachable, "connect",
                                                   "asking jump host " + via->describe() +
                                                       " for a connection to " + peer,
                                                   connect_failed);
            ssh_channel_free(channel);
            co_return tl::unexpected(f);
        }
        link->m_via = via;
        asio::co_spawn(executor, pump_channel(link->m_conduit, via, channel, via->m_conduit, peer),
                       asio::detached);
    }

    if (auto shaken = co_await link->handshake(deadline); !shaken) {
        co_return tl::unexpected(shaken.error());
    }
    if (auto known = link->check_host_key(); !known) {
        co_return tl::unexpected(known.error());
    }
    if (auto authed = co_await link->authenticate(deadline); !authed) {
        co_return tl::unexpected(authed.error());
    }
    co_return link;
}

asio::awaitable<HostExpected<void>> SshLink::handshake(Deadline deadline) {
    m_session = ssh_new();
    if (!m_session) {
        co_return host_failure(HostStatus::AgentError, "connect",
                               "libssh: cannot create a session");
    }
    int verbosity = SSH_LOG_NOLOG;
    int no = 0;
    unsigned port = m_hop.port;
    socket_t fd = m_ssh_fd;
    ssh_options_set(m_session, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
    ssh_options_set(m_session, SSH_OPTIONS_HOST, m_hop.address.c_str());
    ssh_options_set(m_session, SSH_OPTIONS_PORT, &port);
    ssh_options_set(m_session, SSH_OPTIONS_PROCESS_CONFIG, &no); // the inventory already read it
    if (!m_hop.user.empty()) {
        ssh_options_set(m_session, SSH_OPTIONS_USER, m_hop.user.c_str());
    }
    if (const std::string& known = known_hosts_of(m_hop, m_settings); !known.empty()) {
        ssh_options_set(m_session, SSH_OPTIONS_KNOWNHOSTS, known.c_str());
    }
    ssh_options_set(m_session, SSH_OPTIONS_FD, &fd);
    ssh_set_blocking(m_session, 0);
    m_ssh_fd = -1; // the session owns it now

    WaitResult why;
    int rc = co_await retry([&] { return ssh_connect(m_session); }, deadline, why);
    if (why != WaitResult::Ready) {
        co_return tl::unexpected(stopped(why, "connect", "negotiating SSH with " + describe()));
    }
    if (rc != SSH_OK) {
        co_return tl::unexpected(
            ssh_failure(HostStatus::Unreachable, "connect", "the SSH handshake", true));
    }
    co_return HostExpected<void>{};
}

HostExpected<void> SshLink::check_host_key() {
    if (m_hop.host_key_policy == inventory::HostKeyPolicy::Off) {
        return {};
    }
    ssh_key key = nullptr;
    if (ssh_get_server_publickey(m_session, &key) != SSH_OK) {
        return host_failure(HostStatus::HostkeyMismatch, "hostkey",
                            describe() + " sent no usable host key: " + ssh_get_error(m_session));
    }
    const std::string offered =
        std::string(ssh_key_type_to_char(ssh_key_type(key))) + " " + fingerprint(key);
    ssh_key_free(key);
    const std::string& known = known_hosts_of(m_hop, m_settings);
    const std::string file = known.empty() ? "~/.ssh/known_hosts" : known;
    const std::string known_name =
        m_hop.port == 22 ? m_hop.address : "[" + m_hop.address + "]:" + std::to_string(m_hop.port);
    switch (ssh_session_is_known_server(m_session)) {
    case SSH_KNOWN_HOSTS_OK:
        return {};
    case SSH_KNOWN_HOSTS_CHANGED:
        return host_failure(HostStatus::HostkeyMismatch, "hostkey",
                            "host key for " + known_name + " changed: the host offers " + offered +
                                ", " + file +
                                " holds another key. Someone may be intercepting the "
                                "connection; if the host was reinstalled, remove the old key with "
                                "ssh-keygen -R '" +
                                known_name + "' -f " + file);
    case SSH_KNOWN_HOSTS_OTHER:
        return host_failure(HostStatus::HostkeyMismatch, "hostkey",
                            "host key for " + known_name + " changed type: the host offers " +
                                offered + ", " + file + " holds a key of another type for it");
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
        if (m_hop.host_key_policy == inventory::HostKeyPolicy::Strict) {
            return host_failure(HostStatus::HostkeyMismatch, "hostkey",
                                "unknown host key for " + known_name + " (" + offered +
                                    ", not in " + file + "): add it (ssh-keyscan -p " +
                                    std::to_string(m_hop.port) + " " + m_hop.address + " >> " +
                                    file + ") or set host_key_policy = \"accept-new\"");
        }
        if (!known.empty()) {
            std::error_code ec;
            std::filesystem::create_directories(std::filesystem::path(known).parent_path(), ec);
        }
        if (ssh_session_update_known_hosts(m_session) != SSH_OK) {
            return host_failure(HostStatus::HostkeyMismatch, "hostkey",
                                "cannot record the host key of " + known_name + " in " + file +
                                    ": " + ssh_get_error(m_session));
        }
        return {};
    case SSH_KNOWN_HOSTS_ERROR:
        break;
    }
    return host_failure(HostStatus::HostkeyMismatch, "hostkey",
                        "cannot check the host key of " + known_name + " against " + file + ": " +
                            ssh_get_error(m_session));
}

asio::awaitable<HostExpected<void>> SshLink::authenticate(Deadline deadline) {
    std::vector<std::string> keys = m_hop.identity_files;
    std::vector<std::string> tried;
    std::string key_problems;
    bool defaults = keys.empty();
    WaitResult why;
    if (defaults) {
        if (const char* sock = std::getenv("SSH_AUTH_SOCK"); sock && *sock) {
            int rc = co_await retry([&] { return ssh_userauth_agent(m_session, nullptr); },
                                    deadline, why, SSH_AUTH_AGAIN);
            if (why != WaitResult::Ready) {
                co_return tl::unexpected(stopped(why, "auth", "authenticating with ssh-agent"));
            }
            if (rc == SSH_AUTH_SUCCESS) {
                co_return HostExpected<void>{};
            }
            if (rc == SSH_AUTH_ERROR) {
                co_return tl::unexpected(
                    ssh_failure(HostStatus::AuthFailed, "auth", "ssh-agent authentication", false));
            }
            tried.emplace_back("ssh-agent");
        }
        if (const char* home = std::getenv("HOME"); home && *home) {
            for (const char* name : {"id_ed25519", "id_ecdsa", "id_rsa"}) {
                std::string path = std::string(home) + "/.ssh/" + name;
                if (access(path.c_str(), R_OK) == 0) {
                    keys.push_back(path);
                }
            }
        }
    }
    for (const auto& path : keys) {
        ssh_key key = nullptr;
        if (ssh_pki_import_privkey_file(path.c_str(), nullptr, refuse_passphrase, nullptr, &key) !=
            SSH_OK) {
            key_problems +=
                "; cannot use " + path +
                (access(path.c_str(), R_OK) != 0 ? " (" + std::string(std::strerror(errno)) + ")"
                                                 : " (not a key, or protected by a passphrase: "
                                                   "load it into ssh-agent)");
            continue;
        }
        int rc = co_await retry([&] { return ssh_userauth_publickey(m_session, nullptr, key); },
                                deadline, why, SSH_AUTH_AGAIN);
        ssh_key_free(key);
        if (why != WaitResult::Ready) {
            co_return tl::unexpected(stopped(why, "auth", "authenticating with " + path));
        }
        if (rc == SSH_AUTH_SUCCESS) {
            co_return HostExpected<void>{};
        }
        if (rc == SSH_AUTH_ERROR) {
            co_return tl::unexpected(
                ssh_failure(HostStatus::AuthFailed, "auth", "public-key authentication", false));
        }
        tried.push_back(path);
    }
    if (tried.empty()) {
        co_return host_failure(HostStatus::AuthFailed, "auth",
                               key_problems.empty()
                                   ? "no key to offer " + describe() +
                                         " (no identity_file, no ssh-agent, no ~/.ssh/id_* key)"
                                   : "no usable key to offer " + describe() + ": " +
                                         key_problems.substr(2));
    }
    std::string list;
    for (const auto& t : tried) {
        list += (list.empty() ? "" : ", ") + t;
    }
    co_return host_failure(HostStatus::AuthFailed, "auth",
                           describe() + " refused every key tried: " + list + key_problems);
}

// ExecChannel

asio::awaitable<HostExpected<std::unique_ptr<ExecChannel>>>
ExecChannel::open(std::shared_ptr<SshLink> link, std::string command, std::string_view stage,
                  Deadline deadline) {
    ssh_channel channel = ssh_channel_new(link->session());
    if (!channel) {
        co_return tl::unexpected(
            link->ssh_failure(HostStatus::Unreachable, stage, "opening a channel", true));
    }
    std::unique_ptr<ExecChannel> exec(new ExecChannel(link, channel, std::string(stage)));
    WaitResult why;
    int rc = co_await link->retry([&] { return ssh_channel_open_session(channel); }, deadline, why);
    if (why != WaitResult::Ready) {
        co_return tl::unexpected(link->stopped(why, stage, "opening a session channel"));
    }
    if (rc != SSH_OK) {
        co_return tl::unexpected(
            link->ssh_failure(HostStatus::AgentError, stage, "opening a session channel", false));
    }
    rc = co_await link->retry([&] { return ssh_channel_request_exec(channel, command.c_str()); },
                              deadline, why);
    if (why != WaitResult::Ready) {
        co_return tl::unexpected(link->stopped(why, stage, "starting a command"));
    }
    if (rc != SSH_OK) {
        co_return tl::unexpected(
            link->ssh_failure(HostStatus::AgentError, stage, "starting a command", false));
    }
    co_return exec;
}

ExecChannel::~ExecChannel() {
    if (m_channel) {
        if (!ssh_channel_is_closed(m_channel)) {
            ssh_channel_close(m_channel);
        }
        ssh_channel_free(m_channel);
    }
}

void ExecChannel::drain_stderr() {
    char buf[4096];
    int n;
    while ((n = ssh_channel_read_nonblocking(m_channel, buf, sizeof buf, 1)) > 0) {
        if (m_stderr.size() < kMaxStderr) {
            m_stderr.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n),
                                                       kMaxStderr - m_stderr.size()));
        }
    }
}

HostFailure ExecChannel::channel_failure(std::string_view doing) {
    if (!m_link->transport_ok()) {
        return m_link->ssh_failure(HostStatus::Unreachable, m_stage, doing, true);
    }
    drain_stderr();
    return HostFailure{HostStatus::AgentError, m_stage,
                       "the remote command ended while " + std::string(doing) +
                           (m_stderr.empty() ? std::string() : ": " + m_stderr.substr(0, 300)),
                       false, false};
}

asio::awaitable<HostExpected<void>> ExecChannel::write_all(std::string_view bytes,
                                                           Deadline deadline) {
    while (!bytes.empty()) {
        drain_stderr();
        if (ssh_channel_is_closed(m_channel) || ssh_channel_is_eof(m_channel)) {
            co_return host_failure(
                HostStatus::AgentError, m_stage,
                "the remote command stopped reading its input" +
                    (m_stderr.empty() ? std::string() : ": " + m_stderr.substr(0, 300)));
        }
        std::size_t window = ssh_channel_window_size(m_channel);
        if (window == 0) {
            WaitResult why = co_await m_link->wait(deadline);
            if (why != WaitResult::Ready) {
                co_return tl::unexpected(m_link->stopped(why, m_stage, "sending data"));
            }
            // Lets libssh read the window adjustment (stdout is empty while
            // the controller writes: requests and answers take turns).
            const int pending = ssh_channel_poll(m_channel, 0);
            if (pending == SSH_ERROR) {
                co_return tl::unexpected(channel_failure("sending data"));
            }
            if (pending > 0) {
                // It answered without taking its input, and libssh reads no
                // further (nor a close) while that answer waits: it has given up.
                char head[300];
                const int n = ssh_channel_read_nonblocking(m_channel, head, sizeof head, 0);
                std::string text(head, static_cast<std::size_t>(std::max(n, 0)));
                std::replace_if(
                    text.begin(), text.end(), [](char ch) { return ch < 0x20 || ch > 0x7e; }, '?');
                drain_stderr();
                co_return host_failure(
                    HostStatus::AgentError, m_stage,
                    "the remote command stopped reading its input and wrote '" + text + "'" +
                        (m_stderr.empty() ? std::string()
                                          : "; stderr: " + m_stderr.substr(0, 300)));
            }
            continue;
        }
        // libssh copies what it is given into the session's output buffer:
        // hand it a little at a time, and only once the last piece has gone
        // out, so that a hundred uploads in flight hold kilobytes each, not
        // an agent each.
        if (ssh_get_poll_flags(m_link->session()) & SSH_WRITE_PENDING) {
            WaitResult why = co_await m_link->wait_writable(deadline);
            if (why != WaitResult::Ready) {
                co_return tl::unexpected(m_link->stopped(why, m_stage, "sending data"));
            }
            continue;
        }
        std::size_t len = std::min<std::size_t>({bytes.size(), window, kWriteChunk});
        int rc = ssh_channel_write(m_channel, bytes.data(), static_cast<uint32_t>(len));
        if (rc < 0) {
            co_return tl::unexpected(channel_failure("sending data"));
        }
        bytes.remove_prefix(static_cast<std::size_t>(rc));
        if (rc == 0) {
            WaitResult why = co_await m_link->wait(deadline);
            if (why != WaitResult::Ready) {
                co_return tl::unexpected(m_link->stopped(why, m_stage, "sending data"));
            }
        }
    }
    co_return HostExpected<void>{};
}

asio::awaitable<HostExpected<void>> ExecChannel::send_eof(Deadline deadline) {
    WaitResult why;
    int rc = co_await m_link->retry([&] { return ssh_channel_send_eof(m_channel); }, deadline, why);
    if (why != WaitResult::Ready) {
        co_return tl::unexpected(m_link->stopped(why, m_stage, "closing the command's input"));
    }
    if (rc != SSH_OK) {
        co_return tl::unexpected(m_link->ssh_failure(HostStatus::Unreachable, m_stage,
                                                     "closing the command's input", true));
    }
    co_return HostExpected<void>{};
}

asio::awaitable<HostExpected<std::size_t>> ExecChannel::read_some(std::span<char> buffer,
                                                                  Deadline deadline) {
    for (;;) {
        int n = ssh_channel_read_nonblocking(m_channel, buffer.data(),
                                             static_cast<uint32_t>(buffer.size()), 0);
        if (n > 0) {
            co_return static_cast<std::size_t>(n);
        }
        if (n == SSH_ERROR) {
            co_return tl::unexpected(m_link->ssh_failure(HostStatus::Unreachable, m_stage,
                                                         "reading the command's output", true));
        }
        drain_stderr();
        if (ssh_channel_is_eof(m_channel) || ssh_channel_is_closed(m_channel)) {
            co_return std::size_t{0};
        }
        WaitResult why = co_await m_link->wait(deadline);
        if (why != WaitResult::Ready) {
            co_return tl::unexpected(
                m_link->stopped(why, m_stage, "waiting for the command's output"));
        }
    }
}

asio::awaitable<HostExpected<std::string>> ExecChannel::read_all(std::size_t limit,
                                                                 Deadline deadline) {
    std::string out;
    std::vector<char> buf(16384);
    for (;;) {
        auto n = co_await read_some(buf, deadline);
        if (!n) {
            co_return tl::unexpected(n.error());
        }
        if (*n == 0) {
            co_return out;
        }
        if (out.size() + *n > limit) {
            co_return host_failure(HostStatus::AgentError, m_stage,
                                   "the remote command wrote more than " + std::to_string(limit) +
                                       " bytes");
        }
        out.append(buf.data(), *n);
    }
}

asio::awaitable<HostExpected<int>> ExecChannel::exit_status(Deadline deadline) {
    for (;;) {
        drain_stderr();
        int rc = ssh_channel_get_exit_status(m_channel);
        if (rc != -1) {
            co_return rc;
        }
        if (ssh_channel_is_closed(m_channel)) {
            co_return -1;
        }
        WaitResult why = co_await m_link->wait(deadline);
        if (why != WaitResult::Ready) {
            co_return tl::unexpected(
                m_link->stopped(why, m_stage, "waiting for the command to end"));
        }
    }
}

std::string shell_quote(std::string_view word) {
    std::string out = "'";
    for (char ch : word) {
        if (ch == '\'') {
            out += "'\\''";
        } else {
            out += ch;
        }
    }
    out += "'";
    return out;
}

} // namespace bpfleet::fleet
