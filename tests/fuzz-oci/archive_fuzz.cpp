// Fuzzes the archive reader (tar, gzip, zstd, ...) with small limits: every
// input must end in contents or an error, never a crash, a hang or an
// allocation past the limits.
#include "oci/archive.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace bpfleet::oci;
    ArchiveLimits limits;
    limits.max_entry_bytes = 1 << 20;
    limits.max_total_bytes = 4 << 20;
    limits.max_entries = 256;
    auto contents = read_archive_memory(std::span<const std::uint8_t>(data, size), "fuzz", limits);
    if (contents) {
        for (const auto& [path, bytes] : contents->files) {
            (void)normalise_entry_path(path);
            (void)looks_like_archive(bytes);
        }
    }
    return 0;
}
