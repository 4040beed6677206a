// Helpers shared by the pieces of artifact resolution (resolve.cpp,
// image_source.cpp, image_walker.cpp, docker_archive.cpp); not used outside
// src/oci.
#pragma once

#include "common/result.hpp"
#include "oci/digest.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::oci {

using Bytes = std::vector<std::uint8_t>;

// An image config (JSON or gadget YAML) is small; anything larger is refused.
inline constexpr std::uint64_t kMaxConfigBytes = 1024 * 1024;

// Text from an image (names, media types, platforms) made printable and
// bounded before it reaches a message or a report.
inline std::string ascii_safe(std::string_view s, std::size_t max = 200) {
    std::string out;
    for (char c : s.substr(0, max)) {
        out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return out;
}

// `e` with `context` filled in if it had none.
inline Error with_context(Error e, const std::string& context) {
    if (e.context.empty()) {
        e.context = context;
    }
    return e;
}

// "sha256:0123456789ab", for messages.
inline std::string short_digest(const Digest& d) {
    return d.str().substr(0, 19);
}

} // namespace bpfleet::oci
