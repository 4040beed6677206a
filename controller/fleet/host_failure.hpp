// HostFailure: why a host gave no (complete) answer, already in the terms of
// the report: a host status, the stage that failed and the text a person
// reads. `retryable` marks transport trouble worth another attempt (a refused
// or dropped connection), never a program's failure, an authentication or
// host-key refusal, or a timeout of the check itself.
#pragma once

#include "model/run_report.hpp"

#include <string>
#include <tl/expected.hpp>
#include <utility>

namespace bpfleet::fleet {

struct HostFailure {
    HostStatus status = HostStatus::AgentError;
    std::string stage; // connect, hostkey, auth, become, deploy, run
    std::string message;
    bool retryable = false;
    bool cancelled = false; // SIGINT/SIGTERM: not an answer, never journaled
};

template <typename T> using HostExpected = tl::expected<T, HostFailure>;

inline tl::unexpected<HostFailure> host_failure(HostStatus status, std::string stage,
                                                std::string message, bool retryable = false) {
    return tl::unexpected<HostFailure>(
        HostFailure{status, std::move(stage), std::move(message), retryable, false});
}

} // namespace bpfleet::fleet
