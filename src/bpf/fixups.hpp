// Loader-contract fixups: what an object's real loader would do before
// loading (set program types for section names libbpf does not know, size
// maps declared with max_entries 0), applied so that an as-compiled load is
// not stricter than the real one. A fixups file (TOML) can set map sizes and
// program types or disable programs; its rules win over the automatic ones.
// Every fixup applied is reported as a Fixup. The rules themselves are plain
// values (model/fixup_rules.hpp), so that the controller can check a file
// once and send the rules to every host.
#pragma once

#include "common/result.hpp"
#include "model/check_result.hpp"
#include "model/fixup_rules.hpp"

#include <bpf/libbpf.h>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::bpf {

// Default size given to zero-sized maps of types that cannot be empty.
inline constexpr std::uint32_t kDefaultMaxEntries = 4096;

// Parses a fixups file's text. Errors (code "fixups") name the file, line
// and column in their context: "f.toml:2:15".
Result<FixupRules> parse_fixup_rules(std::string_view toml_text, std::string_view source_name);

// Reads and parses the fixups file at `path` (at most kMaxFixupsFile bytes);
// the rules' source is `path`. A file that cannot be read is code "usage".
Result<FixupRules> load_fixup_rules(const std::string& path);
inline constexpr std::size_t kMaxFixupsFile = 1u << 20;

// Whether rules that did not come from parse_fixup_rules() (a check
// request's) name only program types this libbpf knows.
Result<void> check_fixup_rules(const FixupRules& rules);

// Program type for section names that Inspektor Gadget and others use but
// libbpf 1.x does not recognise: socket*, classifier/..., perf_event/...
std::optional<bpf_prog_type> gadget_section_type(std::string_view section);

// Whether a map of this type with max_entries 0 is invalid, so that a default
// size is the right fixup. False for ring buffers (sized by their loader),
// perf event arrays (sized by libbpf to the CPU count) and local storages
// (must be 0).
bool zero_max_entries_needs_default(unsigned map_type); // a bpf_map_type value

// libbpf's program type by its name ("xdp", "sched_cls", "kprobe", ...).
std::optional<bpf_prog_type> prog_type_from_name(std::string_view name);

// Applies the rules and the automatic fixups to an opened, not yet loaded
// object. Returns every change made, in order.
Result<std::vector<Fixup>> apply_fixups(bpf_object* obj, const FixupRules& rules);

} // namespace bpfleet::bpf
