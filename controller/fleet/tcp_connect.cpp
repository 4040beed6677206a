#include "fleet/tcp_connect.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <memory>
#include <mutex>
#include <netdb.h>
#include <sys/socket.h>

namespace bpfleet::fleet {
namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

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
    static auto* pool = new asio::thread_pool(4); // NOLINT(cppcoreguidelines-owning-memory)
    return *pool;
}

} // namespace

// Returns at the deadline or soon after the run is cancelled: the other side
// of `op || watch(...)` for operations that can't be resumed after a tick.
asio::awaitable<void> watch(Deadline deadline, const bool* cancelled) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!(cancelled && *cancelled) && Clock::now() < deadline) {
        timer.expires_at(std::min(deadline, Clock::now() + kTick));
        co_await timer.async_wait(kTuple);
    }
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

std::string endpoint_text(const inventory::Endpoint& hop) {
    std::string address =
        hop.address.find(':') != std::string::npos ? "[" + hop.address + "]" : hop.address;
    return (hop.user.empty() ? "" : hop.user + "@") + address + ":" + std::to_string(hop.port);
}

asio::awaitable<HostExpected<asio::ip::tcp::socket>>
connect_tcp(const inventory::Endpoint& hop, Deadline deadline, const bool* cancelled) {
    const std::string peer = endpoint_text(hop);
    CO_TRY_ASSIGN(auto endpoints, co_await resolve(hop.address, hop.port, deadline, cancelled));
    asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
    auto connected =
        co_await (asio::async_connect(socket, endpoints, kTuple) || watch(deadline, cancelled));
    if (cancelled && *cancelled) {
        HostFailure f{HostStatus::Skipped, "connect", "cancelled while connecting", false, true};
        co_return tl::unexpected(f);
    }
    if (connected.index() == 1) {
        co_return host_failure(HostStatus::Unreachable, "connect",
                               peer +
                                   " did not accept a TCP connection within the connect timeout");
    }
    if (auto [cec, endpoint] = std::get<0>(connected); cec) {
        bool retry = cec == asio::error::connection_refused ||
                     cec == asio::error::connection_reset || cec == asio::error::host_unreachable ||
                     cec == asio::error::network_unreachable || cec == asio::error::timed_out;
        co_return host_failure(HostStatus::Unreachable, "connect",
                               "cannot connect to " + peer + ": " + cec.message(), retry);
    }
    boost::system::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    socket.set_option(asio::socket_base::keep_alive(true), ignored);
    co_return socket;
}

} // namespace bpfleet::fleet
