// `bpfleet btf gen`: kernel BTF for a kernel built without it, made from the
// DWARF of its debug vmlinux (Debian's linux-image-*-dbg package ships it as
// usr/lib/debug/boot/vmlinux-RELEASE) with pahole --btf_encode_detached
// (Debian package dwarves), and optionally minimised for given objects with
// bpftool gen min_core_btf. docs/btf.md has the worked example.
//
// The tools run as subprocesses with timeouts; their output is checked to be
// a kernel's BTF (bpf/external_btf.hpp) before it is called done.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace bpfleet::btf {

struct GenOptions {
    std::string vmlinux;               // a vmlinux with DWARF, or empty
    std::string deb;                   // a linux-image-*-dbg .deb to take it from, or empty
    std::string output;                // the .btf to write
    std::vector<std::string> min_core; // objects to minimise for (empty: the full BTF)
};

struct GenResult {
    std::string vmlinux; // the DWARF file read (inside the unpacked .deb for --deb)
    std::uint64_t full_bytes = 0;
    std::uint64_t bytes = 0; // of the output
    std::string sha256;      // of the output
    std::string arch;        // as bpf::inspect_external_btf tells it; "" when it cannot
};

// Error codes: "usage" (options), "tool_missing" (pahole, bpftool, dpkg-deb),
// "btf_gen" (a tool failed; its stderr quoted), "external_btf" (the result is
// not a kernel's BTF).
Result<GenResult> generate_btf(const GenOptions& options);

} // namespace bpfleet::btf
