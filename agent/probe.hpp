// `bpfleet-agent probe` and the protocol's probe reply: the facts of the host
// the agent runs on (host_probe.hpp) and, when asked, the BPF feature
// fingerprint of its kernel (feature_probe.hpp), as one bpfleet.probe/v1
// document (docs/agent-probe.md documents every field).
//
// Never fails for a host that lacks something: a missing file is a null fact
// plus an entry in "unreadable"; a refused probe is a status with its errno.
#pragma once

#include "model/host_facts.hpp"

namespace bpfleet::agent {

// Host facts and, with `features`, the feature fingerprint (hundreds of BPF
// loads, most of the probe's second); without it "features" is null.
HostFacts probe_host(bool features = true);

} // namespace bpfleet::agent
