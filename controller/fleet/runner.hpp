// The fleet runner: one coroutine per host on one Boost.Asio event loop (one
// thread, whatever the number of hosts), at most `forks` hosts in flight.
// Each host: connect (through its jump hosts), check the host key,
// authenticate, deploy the agent, run the protocol conversation; transport
// failures are retried with backoff, nothing else is. SIGINT/SIGTERM cancel
// every host within a fraction of a second; hosts that did not finish are
// reported as skipped (and not journaled, so --resume runs them).
#pragma once

#include "fleet/agent_conversation.hpp"
#include "fleet/deploy.hpp"
#include "fleet/progress.hpp"
#include "inventory/inventory.hpp"

#include <functional>
#include <string>
#include <vector>

namespace bpfleet::fleet {

struct FleetOptions {
    std::size_t forks = 100;
    unsigned retries = 2;
    std::string remote_dir;  // "" = ~/.cache/bpfleet (or the fallback)
    std::string known_hosts; // "" = libssh's default (~/.ssh/known_hosts)
    std::chrono::milliseconds keepalive{15'000};
};

struct HostOutcome {
    HostResult result;
    std::string agent_stderr;
    bool cancelled = false; // not an answer: never journaled
};

// Runs `hosts`; `on_done` is called (on the loop thread) as each host ends,
// then once for every host that never started because the run was cancelled.
// Returns "SIGINT"/"SIGTERM" when a signal cut the run short, else "".
std::string run_fleet(const std::vector<inventory::InventoryHost>& hosts, const CheckPlan& plan,
                      const AgentCatalog& agents, const FleetOptions& options, Progress& progress,
                      const std::function<void(HostOutcome&)>& on_done);

} // namespace bpfleet::fleet
