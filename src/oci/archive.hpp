// Reading tar / tar.gz archives (OCI layouts exported by `ig image export`,
// docker-save archives, image layers) into memory with libarchive. Nothing is
// written to disk. Every entry is checked: absolute paths, "..", links that
// leave the archive, device files, fifos, duplicates, declared sizes over the
// limit and decompression bombs are refused. Errors: ARCHIVE_UNSAFE for a
// refused entry, ARCHIVE_INVALID for a corrupt archive, LIMIT_EXCEEDED for
// sizes; each names the archive and the entry.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace bpfleet::oci {

struct ArchiveLimits {
    std::uint64_t max_entry_bytes = 256ULL * 1024 * 1024;
    std::uint64_t max_total_bytes = 512ULL * 1024 * 1024; // uncompressed, all entries
    std::uint64_t max_entries = 10000;
};

// Regular files of an archive by normalised relative path ("blobs/sha256/ab..").
// Symlinks and hard links that stay inside the archive are resolved to the
// file they point to.
struct ArchiveContents {
    std::map<std::string, std::vector<std::uint8_t>> files;

    [[nodiscard]] const std::vector<std::uint8_t>* find(const std::string& path) const;
};

// `name` is used in error messages ("archive gadget.tar").
Result<ArchiveContents> read_archive_file(const std::string& path,
                                          const ArchiveLimits& limits = {});
Result<ArchiveContents> read_archive_memory(std::span<const std::uint8_t> bytes,
                                            const std::string& name,
                                            const ArchiveLimits& limits = {});

// Normalises an entry path ("./a//b" → "a/b"); error for absolute paths, "..",
// empty paths and NUL bytes.
Result<std::string> normalise_entry_path(std::string_view path);

// Whether bytes look like a tar or a compressed stream libarchive can read
// (used to tell archives from other blobs).
bool looks_like_archive(std::span<const std::uint8_t> bytes);

} // namespace bpfleet::oci
