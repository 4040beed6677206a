// The content-addressed blob cache: <root>/blobs/<alg>/<hex> (an OCI layout's
// blob tree) plus <root>/refs/<registry>/<repository>/@tag/<tag> holding the
// manifest digest a tag last resolved to, for offline runs. Every write goes
// to <root>/tmp first and is renamed into place only after its digest and size
// were checked, so a reader never sees a partial or wrong blob; every read
// checks the digest again. Paths are built only from validated digests and
// references, so nothing is written outside <root>. Safe to share between
// processes (atomic renames); one BlobCache per thread.
// Errors: CACHE_ERROR (I/O), DIGEST_MISMATCH, LIMIT_EXCEEDED.
#pragma once

#include "common/file.hpp"
#include "common/result.hpp"
#include "oci/digest.hpp"
#include "oci/reference.hpp"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bpfleet::oci {

// $BPFLEET_CACHE_DIR, else $XDG_CACHE_HOME/bpfleet, else ~/.cache/bpfleet.
std::filesystem::path default_cache_dir();

class BlobCache;

// A blob being written: bytes are hashed and counted as they arrive; commit()
// checks them against the expected digest and size and renames the file into
// the cache. Destroying an uncommitted writer removes its temp file.
class BlobWriter {
public:
    BlobWriter(BlobWriter&&) noexcept;
    BlobWriter& operator=(BlobWriter&&) = delete;
    BlobWriter(const BlobWriter&) = delete;
    BlobWriter& operator=(const BlobWriter&) = delete;
    ~BlobWriter();

    // False (with the error kept for commit()) when the blob grew past its
    // expected size or the write failed.
    bool write(std::span<const std::uint8_t> data);
    // Starts over (a retried download): empties the file and the hash.
    Result<void> reset();
    // Verifies and publishes; returns the final path.
    Result<std::filesystem::path> commit();
    [[nodiscard]] std::uint64_t bytes_written() const { return m_written; }

private:
    friend class BlobCache;
    BlobWriter(std::filesystem::path tmp, std::filesystem::path final_path, Digest expected,
               std::uint64_t max_size, std::optional<std::uint64_t> exact_size, FilePtr file,
               std::string what);

    std::filesystem::path m_tmp;
    std::filesystem::path m_final;
    Digest m_expected;
    std::uint64_t m_max_size;
    std::optional<std::uint64_t> m_exact_size;
    FilePtr m_file;
    std::string m_what;
    DigestHasher m_hasher;
    std::uint64_t m_written = 0;
    std::optional<Error> m_error;
    bool m_committed = false;
};

class BlobCache {
public:
    explicit BlobCache(std::filesystem::path root);

    [[nodiscard]] const std::filesystem::path& root() const { return m_root; }
    [[nodiscard]] std::filesystem::path blob_path(const Digest& d) const;
    [[nodiscard]] bool has(const Digest& d) const;

    // Reads a cached blob and checks its digest; nullopt when absent. A blob
    // whose content does not match is removed and reported as DIGEST_MISMATCH.
    Result<std::optional<std::vector<std::uint8_t>>> read(const Digest& d,
                                                          std::uint64_t max_size) const;

    // Starts writing a blob. `exact_size` when a descriptor declared it.
    Result<BlobWriter> begin(const Digest& d, std::uint64_t max_size,
                             std::optional<std::uint64_t> exact_size, std::string what) const;
    // Writes a whole blob already in memory (verified first).
    Result<void> put(const Digest& d, std::span<const std::uint8_t> bytes, std::string what) const;

    // Tag → manifest digest, for offline resolution.
    Result<void> put_tag(const RegistryReference& ref, const Digest& manifest) const;
    Result<std::optional<Digest>> get_tag(const RegistryReference& ref) const;

private:
    [[nodiscard]] std::filesystem::path tag_path(const RegistryReference& ref) const;
    Result<void> ensure_dirs(const std::filesystem::path& dir) const;

    std::filesystem::path m_root;
};

} // namespace bpfleet::oci
