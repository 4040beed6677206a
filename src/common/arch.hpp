// Architecture names, mapped in one place. Three vocabularies meet here:
//   - `uname -m` of a host: x86_64, aarch64, armv7l, ...
//   - OCI image platforms: architecture amd64, arm64, arm (+ variant v7), ...
//   - the agent's own name for the architecture it is built for, which is the
//     canonical `uname -m`: x86_64, aarch64, armv7l. It names the agent's build
//     folder (agent-aarch64/), its install name (bpfleet-agent-armv7l) and what
//     `bpfleet-agent version` prints.
// Any of these spellings (and Debian's: amd64, arm64, armhf) is accepted as
// input. Pure functions, no state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bpfleet {

struct ArchNames {
    std::string_view agent;   // canonical uname -m: "x86_64", "aarch64", "armv7l"
    std::string_view oci;     // OCI architecture: "amd64", "arm64", "arm"
    std::string_view variant; // OCI variant: "v7" for 32-bit ARM hard-float, else usually ""
};

// The names of an architecture given in any known spelling: a `uname -m`, an
// OCI architecture with or without "/variant" ("arm/v7"), a Debian name.
// nullopt for a name not in the table.
std::optional<ArchNames> find_arch(std::string_view name);

// The agent's name for `name` ("arm64" -> "aarch64", "armv8l" -> "armv7l");
// a name not in the table is returned unchanged.
std::string agent_arch_name(std::string_view name);

// The OCI architecture for `name` ("x86_64" -> "amd64"); nullopt when unknown.
std::optional<std::string> oci_arch_name(std::string_view name);

// The architecture this program was compiled for, as the agent names it
// ("unknown" on an architecture not in the table).
std::string_view compiled_arch();

// `uname -m` of the running kernel, as the agent names it.
std::string machine_arch();

} // namespace bpfleet
