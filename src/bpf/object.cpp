#include "bpf/object.hpp"

#include "bpf/libbpf_log.hpp"
#include "common/sha256.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace bpfleet::bpf {
namespace {

// Attach types are only meaningful for some program types; for the others
// libbpf leaves 0, which would read as "cgroup_inet_ingress".
bool attach_type_meaningful(bpf_prog_type type, bpf_attach_type attach) {
    switch (type) {
    case BPF_PROG_TYPE_CGROUP_SKB:
    case BPF_PROG_TYPE_CGROUP_SOCK:
    case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
    case BPF_PROG_TYPE_CGROUP_SOCKOPT:
    case BPF_PROG_TYPE_CGROUP_SYSCTL:
    case BPF_PROG_TYPE_CGROUP_DEVICE:
    case BPF_PROG_TYPE_SOCK_OPS:
        return true;
    default:
        return attach != 0;
    }
}

// libbpf 1.1 turns an internal error into NULL only when it lies in the
// errno range; a size that overflowed an int (e.g. a __kconfig extern of
// 4 GiB) comes back as a "pointer" made of that error. inspect_elf() refuses
// the inputs known to do this; this catches the rest before anything
// dereferences it. No user-space address lies in the kernel's half.
bool returned_error_out_of_range(const bpf_object* obj) {
    // 64 bits wide on every target, so that neither comparison is out of range.
    const std::uint64_t value = reinterpret_cast<std::uintptr_t>(obj);
    if constexpr (sizeof(std::uintptr_t) == 8) {
        return value >= 0xffffffff80000000u; // a negative int, sign-extended
    } else {
        return value >= 0xc0000000u; // above a 3 GiB user space
    }
}

} // namespace

std::string prog_type_name(bpf_prog_type type) {
    const char* n = libbpf_bpf_prog_type_str(type);
    return n ? n : "unknown(" + std::to_string(static_cast<int>(type)) + ")";
}

std::string map_type_name(unsigned type) {
    // The value comes straight from the object: it may be no valid enumerator.
    constexpr unsigned kLargestKnown = 64;
    const char* n =
        type <= kLargestKnown ? libbpf_bpf_map_type_str(static_cast<bpf_map_type>(type)) : nullptr;
    return n ? n : "unknown(" + std::to_string(type) + ")";
}

Result<OpenedObject> open_bpf_object(const ObjectBytes& bytes, const std::string& name,
                                     std::vector<std::string>* libbpf_messages,
                                     const std::string& btf_custom_path) {
    auto opts = libbpf_opts<bpf_object_open_opts>();
    opts.object_name = name.c_str();
    if (!btf_custom_path.empty()) {
        opts.btf_custom_path = btf_custom_path.c_str();
    }
    std::vector<std::string> scratch;
    auto& msgs = libbpf_messages ? *libbpf_messages : scratch;
    bpf_object* obj = nullptr;
    int err = 0;
    {
        LibbpfLogCapture capture;
        obj = bpf_object__open_mem(bytes->data(), bytes->size(), &opts);
        err = obj ? 0 : errno;
        auto lines = capture.take();
        msgs.insert(msgs.end(), lines.begin(), lines.end());
    }
    if (!obj && err == 0) {
        err = EINVAL;
    }
    if (obj && returned_error_out_of_range(obj)) {
        // libbpf closed the object already; what came back is an error code.
        obj = nullptr;
        err = EINVAL;
        msgs.push_back("libbpf returned an error outside the errno range for this object");
    }
    if (!obj) {
        std::string why = msgs.empty() ? std::string(std::strerror(err)) : msgs.back();
        return make_error("OBJECT_INVALID", "libbpf cannot open the object: " + why, err);
    }
    return OpenedObject{bytes, BpfObjectPtr(obj)};
}

ObjectFacts collect_object_facts(bpf_object* obj, std::span<const std::uint8_t> bytes,
                                 const std::string& name, const ElfFacts& elf) {
    ObjectFacts facts;
    facts.name = name;
    facts.size = bytes.size();
    facts.sha256 = Sha256::hex_of(bytes);
    facts.license = elf.license;
    facts.has_btf_ext = elf.has_btf_ext;
    facts.has_btf = bpf_object__btf(obj) != nullptr;

    bpf_program* prog;
    bpf_object__for_each_program(prog, obj) {
        ProgramFacts p;
        p.name = bpf_program__name(prog);
        p.section = bpf_program__section_name(prog);
        const auto type = bpf_program__type(prog);
        p.type = type == BPF_PROG_TYPE_UNSPEC ? "unspec" : prog_type_name(type);
        const auto attach = bpf_program__expected_attach_type(prog);
        if (attach_type_meaningful(type, attach)) {
            const char* a = libbpf_bpf_attach_type_str(attach);
            p.expected_attach_type = a ? a : std::to_string(static_cast<int>(attach));
        }
        p.insns = bpf_program__insn_cnt(prog);
        p.autoload = bpf_program__autoload(prog);
        facts.programs.push_back(std::move(p));
    }
    bpf_map* map;
    bpf_object__for_each_map(map, obj) {
        MapFacts m;
        m.name = bpf_map__name(map);
        m.type = map_type_name(static_cast<unsigned>(bpf_map__type(map)));
        m.key_size = bpf_map__key_size(map);
        m.value_size = bpf_map__value_size(map);
        m.max_entries = bpf_map__max_entries(map);
        m.flags = bpf_map__map_flags(map);
        m.pinned_by_name = bpf_map__pin_path(map) != nullptr;
        m.internal = bpf_map__is_internal(map);
        facts.maps.push_back(std::move(m));
    }
    return facts;
}

Result<ObjectFacts> inspect_object(const ObjectBytes& bytes, const std::string& name) {
    TRY_ASSIGN(auto elf, inspect_elf(*bytes));
    TRY_ASSIGN(auto opened, open_bpf_object(bytes, name));
    return collect_object_facts(opened.obj.get(), *bytes, name, elf);
}

} // namespace bpfleet::bpf
