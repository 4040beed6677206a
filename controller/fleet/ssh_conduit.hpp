// The byte path of one SSH hop. libssh never touches the network itself: its
// socket is one end of a socketpair, and pump coroutines copy bytes between
// the other end and the upstream — a TCP connection (first hop) or a
// direct-tcpip channel of the previous hop's session (jump hosts, chained).
// That gives every hop the same bounded, cancellable waits, and tells when
// bytes last arrived, which is what the keepalive check needs.
//
// A Conduit is shared by its link and its pumps, so that whichever ends last
// frees it. Everything runs on the event loop's thread.
#pragma once

#include "common/fd.hpp"
#include "fleet/deadline.hpp"
#include "fleet/host_failure.hpp"
#include "fleet/ssh_handles.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>

namespace bpfleet::fleet {

class SshLink;

struct Conduit {
    explicit Conduit(const asio::any_io_executor& executor)
        : ours(executor), ssh_side(executor), tick(executor) {}

    asio::local::stream_protocol::socket ours; // our end of the socketpair
    asio::posix::stream_descriptor ssh_side;   // a duplicate of libssh's end, to wait on
    std::optional<asio::ip::tcp::socket> tcp;  // the first hop's connection
    asio::steady_timer tick;                   // the link's waits (never a pump's)
    Clock::time_point last_rx = Clock::now();
    std::string error; // why the upstream ended; "" while it carries bytes
    bool stopped = false;

    // The upstream is gone (`why`, kept if it is the first reason): libssh
    // reads EOF on its end and gives up at once.
    void fail(std::string why);
    // The link is done with it: both ends closed, the pumps stop.
    void close();
};

// Makes the hop's socketpair: our end and a duplicate of libssh's end go into
// `conduit`; the returned Fd is libssh's end, for SSH_OPTIONS_FD.
HostExpected<Fd> open_socketpair(Conduit& conduit);

// The first hop: two coroutines copy bytes between `tcp` and libssh's socket.
void start_tcp_pumps(const std::shared_ptr<Conduit>& conduit, asio::ip::tcp::socket tcp,
                     const std::string& peer);

// A hop behind `via`: one coroutine copies bytes both ways between libssh's
// socket and `channel`, an open direct-tcpip channel of `via` to `target`.
// The pump keeps `via` alive and frees the channel before it.
void start_channel_pump(const std::shared_ptr<Conduit>& conduit, std::shared_ptr<SshLink> via,
                        SshChannelPtr channel, std::string target);

} // namespace bpfleet::fleet
