// Kernel BTF from elsewhere than /sys/kernel/btf/vmlinux ("external BTF": a
// BTFHub file, a gadget's btfgen file, BTF made from a debug package), for
// hosts whose kernel has none. libbpf resolves CO-RE relocations against it
// (btf_custom_path); programs that attach by the kernel's own BTF ids
// (fentry, tp_btf, lsm, iter, struct_ops) still need the kernel's.
//
// check_external_btf() is what both ends run before trusting such a file:
// the controller before shipping it, the agent before handing it to libbpf.
// A file that is not BTF, is too large, or was made for another architecture
// is refused with the reason. Pure reads; no BPF syscalls.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace bpfleet::bpf {

// A vmlinux BTF is 2 to 10 MiB; the protocol's payload limit (64 MiB) is the
// most a host can be sent anyway.
inline constexpr std::uint64_t kMaxExternalBtfBytes = 64u << 20;

struct ExternalBtfFacts {
    std::string sha256;
    std::uint64_t size = 0;
    std::uint32_t types = 0;
    // The architecture the BTF describes, as the agent names it ("x86_64",
    // "aarch64", "armv7l"), told by the layout of struct pt_regs; empty when
    // the BTF does not say (a minimised file without pt_regs).
    std::string arch;
};

// Parses `bytes` as raw BTF and tells what it describes. Errors (code
// "external_btf") name what is wrong; `where` names the file in them.
Result<ExternalBtfFacts> inspect_external_btf(std::span<const std::uint8_t> bytes,
                                              std::string_view where);

// Reads `path` (at most kMaxExternalBtfBytes) and inspects it; when
// `host_arch` is not empty, BTF made for another architecture is refused.
Result<ExternalBtfFacts> check_external_btf(const std::string& path, std::string_view host_arch);

} // namespace bpfleet::bpf
