// The protocol conversation with one `bpfleet-agent serve` (docs/protocol.md):
// hello, probe, one check per object the host's architecture takes, bye,
// pipelined: every request goes out without waiting for an answer, while the
// agent's answers stream in (one round trip per host, not one per request).
// Every reply is bounded (FrameReader) and read with its typed parser
// (protocol/messages.hpp: the hello, the probe's HostFacts, the check reply's
// id and its bpfleet.check/v1 report); anything garbled, oversized or late is
// an agent_error or a timeout for that host, never a crash.
#pragma once

#include "fleet/agent_stream.hpp"
#include "model/run_report.hpp"
#include "oci/resolve.hpp"
#include "protocol/messages.hpp"
#include "protocol/protocol.hpp"

#include <string>
#include <vector>

namespace bpfleet::fleet {

// What one host's agent may send in one run (docs/ssh.md, "Untrusted
// output"). Beyond any of them the host is an agent_error naming the budget;
// the controller's memory and the other hosts are not touched. Besides these,
// every message is bounded by FrameReader (64 MiB, 64 levels, 250,000 JSON
// values) and every verifier log by the check's log cap.
inline constexpr std::size_t kMaxHelloBytes = std::size_t{64} << 10;
inline constexpr std::size_t kMaxFactsBytes = std::size_t{4} << 20;       // the probe reply
inline constexpr std::size_t kMaxCheckReplyBytes = std::size_t{64} << 20; // one object
inline constexpr std::size_t kMaxHostBytes = std::size_t{256} << 20;      // all of a run

struct ArtifactInput {
    std::string spec; // the ARTIFACT argument
    oci::ResolvedArtifact artifact;
};

struct CheckPlan {
    const std::vector<ArtifactInput>* artifacts = nullptr; // none: probe only
    protocol::CheckOptions options;
    // Ask for the feature fingerprint too (about a second of BPF loads per
    // host); the host facts come either way.
    bool probe_features = false;
    // External kernel BTF for this host (docs/btf.md, btf/btf_source.hpp):
    // a file or a folder to pick from by the host's facts; sent only when
    // the host has no kernel BTF, or options.force_btf / ignore_kernel_btf.
    std::string external_btf;
};

// Fills host.facts and host.checks; on failure they hold what was done so
// far (facts come first, so they are kept even when a check fails).
// `machine` is the host's architecture as the agent names it (what the
// start command's `uname -m` said; "" for this machine, the local
// transport): the objects are chosen by it before the agent's hello arrives,
// and an agent reporting another architecture is an agent_error.
// (By value: a coroutine keeps its parameters, not what references point at.)
// `after_hello`: send nothing until the agent's hello has arrived. Needed
// after an upload: the host's shell reads the agent from the channel's stdin
// with `head -c`, and a `head` that reads ahead (busybox's does) would swallow
// requests sent before the agent itself runs.
asio::awaitable<HostExpected<void>> converse(AgentStream& stream, const CheckPlan& plan,
                                             HostResult& host, Deadline deadline,
                                             std::string machine = {}, bool after_hello = false);

} // namespace bpfleet::fleet
