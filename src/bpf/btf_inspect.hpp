// The BTF half of inspect_elf() (elf_inspect.hpp): structural checks of an
// object's .BTF and .BTF.ext sections before libbpf parses them. Internal to
// src/bpf.
//
// libbpf 1.1 checks the BTF header and that every type record fits, but it
// follows type ids, name offsets and type chains without checking them, and
// trusts .BTF.ext's record counts and references. The checks here are the
// kernel's structural rules that libbpf's open and load paths rely on, each a
// linear pass; every error is OBJECT_INVALID naming the section, the type or
// record, and what is wrong. Stateless and thread-safe.
#pragma once

#include "bpf/elf_reading.hpp"

#include <cstdint>
#include <vector>

namespace bpfleet::bpf {

// What the .BTF.ext checks and the open-work bound need to know of a .BTF.
struct BtfSummary {
    std::vector<std::uint8_t> kinds; // by type id; [0] is void
    std::uint32_t str_len = 0;
    std::uint64_t datasec_vars = 0; // entries of all DATASECs
};

Result<BtfSummary> check_btf(const Section& sec);

// .BTF.ext: header, then func_info, line_info and (optionally) CO-RE
// relocation subsections, checked against the .BTF they refer to.
Result<void> check_btf_ext(const Section& sec, const BtfSummary& btf);

} // namespace bpfleet::bpf
