// `bpfleet-agent probe`: the facts of the host the agent runs on and the BPF
// feature fingerprint of its kernel, as one bpfleet.probe/v1 document
// (docs/agent-probe.md documents every field).
//
// Every answer comes from the running kernel: files under /proc and /sys, and
// real BPF loads, map creations and attaches whose raw errno is kept. Nothing
// is inferred from the kernel version. Every probe closes what it created
// before it returns; a probe that attaches does so only to targets that run
// nothing of the host's (bpf_fentry_test1, the LSM hook with a program that
// allows everything) and detaches at once.
//
// Single-threaded, like the rest of the agent. Never throws for a host that
// lacks something: a missing file is a null fact plus an entry in
// "unreadable"; a refused probe is a status with its errno.
#pragma once

#include "model/check_result.hpp"

#include <string_view>

namespace bpfleet::agent {

inline constexpr std::string_view kProbeSchema = "bpfleet.probe/v1";

// Host facts and the feature fingerprint. Runs the BPF probes too; as a
// non-privileged user they report EPERM (see "privileges" in the document).
// With `features` false the fingerprint (hundreds of BPF loads, most of the
// probe's second) is left out: "features" is null.
Json probe_host(bool features = true);

} // namespace bpfleet::agent
