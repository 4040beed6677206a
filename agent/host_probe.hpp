// The host facts of the probe document (everything but "features"): read
// from /proc, /sys, uname(2) and sysconf(3) in a few milliseconds. A file
// that cannot be read is a missing fact plus an entry in `unreadable`, never
// an error. Single-threaded.
#pragma once

#include "model/host_facts.hpp"

namespace bpfleet::agent {

// The facts of this host; `features` is left empty.
HostFacts probe_host_facts();

} // namespace bpfleet::agent
