#include "probe.hpp"

#include "commands.hpp"
#include "feature_probe.hpp"
#include "host_probe.hpp"
#include "output.hpp"

namespace bpfleet::agent {

HostFacts probe_host(bool features) {
    HostFacts facts = probe_host_facts();
    if (features) {
        facts.features = probe_features();
    }
    return facts;
}

namespace {

constexpr std::string_view kProbeUsage =
    "usage: bpfleet-agent probe\n"
    "\n"
    "Prints this host's facts and BPF feature fingerprint as one JSON document\n"
    "(schema bpfleet.probe/v1, docs/agent-probe.md).\n"
    "\n"
    "exit status: 0 printed, 2 usage\n";

} // namespace

int run_probe(std::span<char*> args) {
    if (auto done = help_or_refuse("probe", args, kProbeUsage)) {
        return *done;
    }
    write_stdout(Json(probe_host()).dump(2) + "\n");
    return kExitOk;
}

} // namespace bpfleet::agent
