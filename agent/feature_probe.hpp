// The BPF feature fingerprint of the running kernel (the probe document's
// "features"): libbpf's probe of every program and map type, helpers per
// program type decided from the verifier's own words, and one real load and
// attach per attach mechanism. Every answer keeps the raw errno; nothing is
// inferred from the kernel version. Hundreds of BPF loads, about a second.
//
// Every probe closes what it created before it returns; a probe that
// attaches does so only to targets that run nothing of the host's
// (bpf_fentry_test1, the LSM hook with a program that allows everything) and
// detaches at once. Single-threaded. As a non-privileged user the answers
// are mostly EPERM (see the facts' "privileges").
#pragma once

#include "model/host_facts.hpp"

namespace bpfleet::agent {

FeatureFingerprint probe_features();

} // namespace bpfleet::agent
