// Opening BPF objects with libbpf (never loading them here) and reading their
// facts: programs, maps, BTF, license. The bytes are validated by
// inspect_elf() first. BpfObjectPtr is the single owner of a bpf_object.
#pragma once

#include "bpf/elf_inspect.hpp"
#include "common/object_bytes.hpp"
#include "common/result.hpp"
#include "model/check_result.hpp"

#include <bpf/libbpf.h>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace bpfleet::bpf {

struct BpfObjectDeleter {
    void operator()(bpf_object* obj) const { bpf_object__close(obj); }
};
using BpfObjectPtr = std::unique_ptr<bpf_object, BpfObjectDeleter>;

// A zeroed libbpf options struct with its size field set: what libbpf's
// LIBBPF_OPTS macro does, in standard C++ (the macro is a GNU statement
// expression with a compound literal, which C++ compilers only accept as an
// extension).
template <typename Opts> Opts libbpf_opts() {
    Opts opts{};
    opts.sz = sizeof(Opts);
    return opts;
}

// libbpf may keep pointers into the bytes until the object is closed.
struct OpenedObject {
    ObjectBytes bytes; // declared first: outlives obj
    BpfObjectPtr obj;
};

// Opens `bytes` with libbpf. `libbpf_messages` receives libbpf's warnings.
// `btf_custom_path`, when not empty, is the kernel BTF libbpf resolves CO-RE
// relocations against instead of /sys/kernel/btf/vmlinux (external BTF).
// Errors are OBJECT_INVALID with libbpf's reason.
Result<OpenedObject> open_bpf_object(const ObjectBytes& bytes, const std::string& name,
                                     std::vector<std::string>* libbpf_messages = nullptr,
                                     const std::string& btf_custom_path = {});

// Programs and maps of an opened object, plus ELF facts and the sha256.
ObjectFacts collect_object_facts(bpf_object* obj, std::span<const std::uint8_t> bytes,
                                 const std::string& name, const ElfFacts& elf);

// ELF checks + libbpf open + facts, without loading anything.
Result<ObjectFacts> inspect_object(const ObjectBytes& bytes, const std::string& name);

// libbpf's name for a program type or map type, "unknown(N)" when it has none.
std::string prog_type_name(bpf_prog_type type);
std::string map_type_name(unsigned type);

} // namespace bpfleet::bpf
