// Structural checks and facts read straight from a BPF ELF object with libelf,
// before libbpf sees it. libbpf 1.1 trusts section, symbol and relocation
// indices; everything it would index with is bounds-checked here first, so a
// hostile or truncated file gets a precise OBJECT_INVALID instead of a crash.
// Stateless and thread-safe.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <span>
#include <string>

namespace bpfleet::bpf {

struct ElfFacts {
    std::string license; // printable ASCII, empty when there is no license section
    bool has_btf = false;
    bool has_btf_ext = false;
    std::uint32_t program_sections = 0; // executable sections with code
};

// Objects larger than this are refused before parsing (overridable by callers).
inline constexpr std::uint64_t kDefaultMaxObjectSize = 64ull << 20;

// Validates `bytes` as a little- or big-endian 64-bit ELF relocatable for
// EM_BPF. Errors have code "OBJECT_INVALID" and a message that names the part
// of the file that is wrong.
Result<ElfFacts> inspect_elf(std::span<const std::uint8_t> bytes);

} // namespace bpfleet::bpf
