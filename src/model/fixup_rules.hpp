// FixupRules: what a fixups file asks for (docs/agent.md, "Fixups files"),
// as plain values: per program a type (libbpf's name) or whether it is
// loaded, per map a size. Read from TOML by bpf::parse_fixup_rules(), where
// the file's mistakes are found (file:line:column); applied by
// bpf::apply_fixups(). Between the two it may cross the wire: the controller
// parses the file once, before any host is contacted, and sends every host
// these rules in JSON (a check request's options.fixups).
//
// Plain values, no libbpf: the controller's model and protocol carry them.
// `parse_fixup_rules_json()` reads the JSON form from an untrusted peer: every
// member's type, every size; a member it does not know is an error (a rule
// that is not understood must not be dropped without a word). Whether a type
// name is one libbpf knows is for bpf::check_fixup_rules() to say.
#pragma once

#include "common/result.hpp"
#include "model/json_fields.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace bpfleet {

struct ProgramRule {
    std::optional<std::string> type; // a libbpf program type name ("xdp")
    std::optional<bool> enabled;
};

struct MapRule {
    std::optional<std::uint32_t> max_entries;
};

struct FixupRules {
    std::map<std::string, ProgramRule, std::less<>> programs;
    std::map<std::string, MapRule, std::less<>> maps;
    std::string source; // the file's name, for the report's "set in ..."

    [[nodiscard]] bool empty() const { return programs.empty() && maps.empty(); }
};

// {"source": ..., "programs": {NAME: {"type": ..., "enabled": ...}},
//  "maps": {NAME: {"max_entries": N}}}; a rule's unset members are left out.
void to_json(Json& j, const FixupRules& rules);

// Reads the JSON form; `path` names it in errors ("check.options.fixups").
// Error code "protocol".
Result<FixupRules> parse_fixup_rules_json(const Json& value, const std::string& path);

// Bounds of the JSON form (a fixups file is at most 1 MiB of TOML).
inline constexpr std::size_t kMaxFixupRules = 1u << 14; // programs, and maps
inline constexpr std::size_t kMaxFixupName = 4096;      // names, the source

} // namespace bpfleet
