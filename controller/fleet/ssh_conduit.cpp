#include "fleet/ssh_conduit.hpp"

#include "fleet/ssh_link.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <sys/socket.h>
#include <vector>

namespace bpfleet::fleet {
namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr int kSocketBuffer = 256 << 10;

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
// hop's session and is only touched here. `owner` comes after `via` so that
// the channel is freed before the session it belongs to, even when the loop
// is torn down with this coroutine suspended.
asio::awaitable<void> pump_channel(std::shared_ptr<Conduit> c, std::shared_ptr<SshLink> via,
                                   SshChannelPtr owner, std::shared_ptr<Conduit> via_conduit,
                                   std::string target) {
    ssh_channel channel = owner.get();
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
        logging::libssh_peer(jump); // the channel belongs to the jump host's session
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
            logging::libssh_peer(jump); // (other hosts ran during the write above)
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
    owner.reset(); // closes and frees the channel
    boost::system::error_code ignored;
    c->ours.shutdown(asio::socket_base::shutdown_both, ignored);
}

} // namespace

void Conduit::fail(std::string why) {
    if (error.empty() && !stopped) {
        error = std::move(why);
    }
    boost::system::error_code ignored;
    ours.shutdown(asio::socket_base::shutdown_both, ignored);
    if (tcp) {
        tcp->close(ignored);
    }
}

void Conduit::close() {
    stopped = true;
    boost::system::error_code ignored;
    ours.close(ignored);
    if (tcp) {
        tcp->close(ignored);
    }
    tick.cancel();
}

HostExpected<Fd> open_socketpair(Conduit& conduit) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        return host_failure(HostStatus::AgentError, "connect",
                            std::string("socketpair: ") + std::strerror(errno));
    }
    Fd ssh_end(pair[0]);
    Fd our_end(pair[1]);
    for (int fd : pair) {
        int size = kSocketBuffer;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    // libssh writes only when poll says it can, and copes with short writes:
    // non-blocking keeps a full buffer from stalling the whole event loop.
    fcntl(ssh_end.get(), F_SETFL, fcntl(ssh_end.get(), F_GETFL) | O_NONBLOCK);
    // The event loop waits on its own duplicate of libssh's end: libssh closes
    // its descriptor when a write fails, and the number may then be reused by
    // another host's socket before this link is gone.
    Fd watched(fcntl(ssh_end.get(), F_DUPFD_CLOEXEC, 0));
    if (!watched) {
        return host_failure(HostStatus::AgentError, "connect",
                            std::string("dup: ") + std::strerror(errno));
    }
    conduit.ours.assign(asio::local::stream_protocol(), our_end.release());
    conduit.ssh_side.assign(watched.release());
    return ssh_end;
}

void start_tcp_pumps(const std::shared_ptr<Conduit>& conduit, asio::ip::tcp::socket tcp,
                     const std::string& peer) {
    conduit->tcp.emplace(std::move(tcp));
    asio::co_spawn(conduit->tick.get_executor(), pump_tcp_down(conduit, peer), asio::detached);
    asio::co_spawn(conduit->tick.get_executor(), pump_tcp_up(conduit, peer), asio::detached);
}

void start_channel_pump(const std::shared_ptr<Conduit>& conduit, std::shared_ptr<SshLink> via,
                        SshChannelPtr channel, std::string target) {
    auto via_conduit = via->conduit();
    asio::co_spawn(conduit->tick.get_executor(),
                   pump_channel(conduit, std::move(via), std::move(channel), std::move(via_conduit),
                                std::move(target)),
                   asio::detached);
}

} // namespace bpfleet::fleet
