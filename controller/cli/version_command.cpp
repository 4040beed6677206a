#include "cli/commands.hpp"

#include <bpf/libbpf.h>
#include <cstdio>

namespace bpfleet::cli {

Action register_version(CLI::App& app) {
    app.add_subcommand("version", "Print bpfleet's version and the libbpf it was built with");
    return [] {
        std::printf("bpfleet %s (libbpf %u.%u)\n", BPFLEET_VERSION, libbpf_major_version(),
                    libbpf_minor_version());
        return kExitOk;
    };
}

} // namespace bpfleet::cli
