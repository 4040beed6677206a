// ObjectBytes: the bytes of a BPF object, shared read-only by everyone who
// holds them (the OCI resolver that fetched them, every bpf_object libbpf
// opened from them, the controller sending them to hosts). Here rather than
// in src/bpf so that code that only carries objects around does not need
// libbpf.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace bpfleet {

using ObjectBytes = std::shared_ptr<const std::vector<std::uint8_t>>;

} // namespace bpfleet
