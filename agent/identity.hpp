// Who this agent is and what it runs on: its version, libbpf, architecture and
// GNU build id, and the running kernel's release and machine. Every command
// reports these (hello, probe, check documents). Pure reads, no state.
#pragma once

#include "model/check_result.hpp"

#include <string>

namespace bpfleet::agent {

// The agent's version, libbpf major.minor and the architecture it was built for.
AgentInfo agent_info();
// uname -r and uname -m of the running kernel (empty when uname fails).
KernelInfo kernel_info();
// The agent binary's GNU build id in hex, "unknown" without one.
std::string build_id();

} // namespace bpfleet::agent
