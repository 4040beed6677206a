// Looking up what an attach needs on this host: a kernel function from
// /proc/kallsyms for placeholder kprobe sections, and the file offset of one
// of the agent's own functions for uprobes (the agent may be static and
// stripped, so libbpf cannot resolve it by name).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bpfleet::bpf {

// The first of `names` (in their order of preference) that /proc/kallsyms
// lists; "" when none does or the file cannot be read.
std::string read_kallsyms_candidate(const std::vector<std::string>& names);

// File offset of a function of this executable, for uprobes on a stripped,
// possibly static binary (libbpf cannot resolve names without a symtab).
std::optional<std::uint64_t> own_function_offset(const void* fn);

} // namespace bpfleet::bpf
