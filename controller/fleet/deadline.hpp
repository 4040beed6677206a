// The clock every wait in the fleet runner is measured on, and the one name
// for Boost.Asio used across controller/fleet.
#pragma once

#include <chrono>

namespace boost::asio {}

namespace bpfleet::fleet {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// How long a wait sleeps at most before looking again: bounds how late a
// cancel, a deadline or a keepalive is noticed.
inline constexpr std::chrono::milliseconds kTick{200};

} // namespace bpfleet::fleet
