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

int run_probe(std::span<char*>) {
    write_stdout(Json(probe_host()).dump(2) + "\n");
    return kExitOk;
}

} // namespace bpfleet::agent
