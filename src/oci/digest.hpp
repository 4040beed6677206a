// Content digests ("sha256:<64 hex>", "sha512:<128 hex>") and a streaming
// hasher that checks bytes against one while they arrive. DigestHasher owns an
// OpenSSL EVP context; not thread-safe per instance. Errors: DIGEST_INVALID for
// a malformed or unsupported digest string, DIGEST_MISMATCH when bytes differ.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace bpfleet::oci {

struct Digest {
    std::string algorithm; // "sha256" or "sha512"
    std::string hex;       // lowercase, 64 or 128 characters

    [[nodiscard]] std::string str() const { return algorithm + ":" + hex; }
    bool operator==(const Digest&) const = default;
};

// Parses and validates a digest string; only sha256 and sha512 are accepted so
// that a digest can always be checked, and the hex is safe to use in a path.
Result<Digest> parse_digest(std::string_view text);

// sha256 of `data` as a Digest.
Digest sha256_digest(std::span<const std::uint8_t> data);
Digest sha256_digest(std::string_view data);

class DigestHasher {
public:
    explicit DigestHasher(std::string_view algorithm); // sha256 (default) or sha512
    DigestHasher(DigestHasher&&) noexcept;
    DigestHasher& operator=(DigestHasher&&) noexcept;
    DigestHasher(const DigestHasher&) = delete;
    DigestHasher& operator=(const DigestHasher&) = delete;
    ~DigestHasher();

    void update(std::span<const std::uint8_t> data);
    // Finishes the hash; the hasher must not be updated afterwards.
    Digest finish();

private:
    struct Context;
    std::unique_ptr<Context> m_ctx;
    std::string m_algorithm;
};

// Checks `data` against `expected`; DIGEST_MISMATCH names `what`.
Result<void> verify_digest(std::span<const std::uint8_t> data, const Digest& expected,
                           std::string_view what);

} // namespace bpfleet::oci
