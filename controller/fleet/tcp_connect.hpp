// The first hop's TCP connection: the name looked up off the event loop, the
// connection made within the connect deadline, both given up at once when
// the run is cancelled. Runs on the event loop's thread; failures are
// HostFailures at stage "connect" (refused, reset and unreachable are
// retryable, a name that does not exist is not).
#pragma once

#include "fleet/deadline.hpp"
#include "fleet/host_failure.hpp"
#include "inventory/inventory.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <vector>

namespace bpfleet::fleet {

// The addresses of `address`:`port`. An IP address is taken as it is; a name
// is looked up on a few threads of its own (getaddrinfo cannot be
// interrupted) and abandoned at the deadline or on cancel.
asio::awaitable<HostExpected<std::vector<asio::ip::tcp::endpoint>>>
resolve(std::string address, int port, Deadline deadline, const bool* cancelled);

// A TCP connection to `hop` (no-delay and TCP keepalive on).
asio::awaitable<HostExpected<asio::ip::tcp::socket>>
connect_tcp(const inventory::Endpoint& hop, Deadline deadline, const bool* cancelled);

// Returns at the deadline or soon after the run is cancelled: the other side
// of `op || watch(...)` for operations that can't be resumed after a tick.
asio::awaitable<void> watch(Deadline deadline, const bool* cancelled);

// "user@address:port" ("[v6]:port" for an IPv6 address), for messages.
std::string endpoint_text(const inventory::Endpoint& hop);

} // namespace bpfleet::fleet
