// Reading an untrusted ELF image: the bounds-checked helpers shared by the
// ELF checks (elf_inspect.cpp) and the BTF checks (btf_inspect.cpp). Internal
// to src/bpf. Everything here reads a caller-checked range of a span; nothing
// in a hostile file is assumed aligned.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <cstring>
#include <gelf.h>
#include <span>
#include <string>

namespace bpfleet::bpf {

// One section of the object: its header, its name and its bytes (empty for
// SHT_NOBITS and SHT_NULL).
struct Section {
    std::size_t index = 0;
    GElf_Shdr hdr{};
    std::string name;
    std::span<const std::uint8_t> data;
};

inline tl::unexpected<Error> invalid(std::string message) {
    return make_error("OBJECT_INVALID", std::move(message));
}

// True when [offset, offset + size) lies inside [0, limit), without overflow.
inline bool range_ok(std::uint64_t offset, std::uint64_t size, std::uint64_t limit) {
    return offset <= limit && size <= limit - offset;
}

// Reads a T at `offset`; the caller has checked the range.
template <typename T> T load(std::span<const std::uint8_t> data, std::uint64_t offset) {
    T value;
    std::memcpy(&value, data.data() + offset, sizeof value);
    return value;
}

inline std::string num(std::uint64_t v) {
    return std::to_string(v);
}

// "section 7 '.BTF'", for messages.
inline std::string label(const Section& s) {
    return "section " + num(s.index) + " '" + s.name + "'";
}

} // namespace bpfleet::bpf
