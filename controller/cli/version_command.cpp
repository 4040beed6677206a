#include "cli/commands.hpp"
#include "fleet/deploy.hpp"

#include <bpf/libbpf.h>
#include <cstdio>

namespace bpfleet::cli {

Action register_version(CLI::App& app) {
    app.add_subcommand("version", "Print bpfleet's version, the libbpf it was built with and the "
                                  "agents it found (one per architecture)");
    return [] {
        std::printf("bpfleet %s (libbpf %u.%u)\n", BPFLEET_VERSION, libbpf_major_version(),
                    libbpf_minor_version());
        // Where each agent comes from: a host of an architecture without one
        // is unsupported_arch, so say so before a run finds out.
        auto agents = fleet::AgentCatalog::load({});
        for (const char* arch : fleet::kAgentArchNames) {
            const fleet::AgentBinary* agent = agents ? agents->find(arch) : nullptr;
            if (agent) {
                std::printf("agent %-8s %s\n", arch, agent->path.c_str());
            } else {
                std::printf("agent %-8s none (pass --agent %s=PATH)\n", arch, arch);
            }
        }
        return kExitOk;
    };
}

} // namespace bpfleet::cli
