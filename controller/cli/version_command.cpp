#include "cli/commands.hpp"
#include "fleet/deploy.hpp"

#include <bpf/libbpf.h>
#include <cstdio>
#include <string>

namespace bpfleet::cli {

std::string version_text() {
    std::string out = std::string("bpfleet ") + BPFLEET_VERSION + " (libbpf " +
                      std::to_string(libbpf_major_version()) + "." +
                      std::to_string(libbpf_minor_version()) + ")";
    // Where each agent comes from: a host of an architecture without one
    // is unsupported_arch, so say so before a run finds out.
    auto agents = fleet::AgentCatalog::load({});
    for (const char* arch : fleet::kAgentArchNames) {
        const fleet::AgentBinary* agent = agents ? agents->find(arch) : nullptr;
        char line[512];
        if (agent) {
            std::snprintf(line, sizeof line, "\nagent %-8s %s", arch, agent->path.c_str());
        } else {
            std::snprintf(line, sizeof line, "\nagent %-8s none (pass --agent %s=PATH)", arch,
                          arch);
        }
        out += line;
    }
    return out;
}

Action register_version(CLI::App& app) {
    app.add_subcommand("version", "Print bpfleet's version, the libbpf it was built with and the "
                                  "agents it found (one per architecture); the same as --version");
    return [] {
        std::printf("%s\n", version_text().c_str());
        return kExitOk;
    };
}

} // namespace bpfleet::cli
