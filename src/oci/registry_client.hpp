// A client for one OCI distribution registry over libcurl: manifests and
// blobs, Accept negotiation, redirects, anonymous / basic / bearer-token auth
// (WWW-Authenticate challenge → token realm → retry), HTTPS with a custom CA
// file, plain HTTP only when asked or for a loopback registry that does not
// speak TLS, timeouts, and retries with backoff on 429/5xx and transport
// errors (Retry-After honoured up to a cap).
//
// Owns one CURL easy handle (connections are reused); not thread-safe. The
// Authorization header is never logged or put in an error. Errors:
// REGISTRY_ERROR (HTTP status), NETWORK (transport, timeout), AUTH_FAILED,
// NOT_FOUND, DIGEST_MISMATCH, LIMIT_EXCEEDED; each names the URL.
#pragma once

#include "common/result.hpp"
#include "oci/credentials.hpp"
#include "oci/digest.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bpfleet::oci {

class BlobWriter;

struct RegistryOptions {
    bool plain_http = false; // http:// for every registry
    std::string ca_file;     // PEM bundle used instead of the system CAs
    std::optional<Credentials> credentials;
    // Where credentials were looked for, named when a registry wants some and
    // there are none (describe_credential_sources()).
    std::string credentials_searched;
    long connect_timeout_ms = 10'000;
    long stall_timeout_s = 30; // abort when no byte arrived for this long
    long request_timeout_ms = 600'000;
    int max_retries = 3;
    long initial_backoff_ms = 250;
    long max_retry_after_s = 30; // a longer Retry-After is cut to this
};

struct RegistryStats {
    std::uint64_t requests = 0; // every HTTP request, retries and token requests included
    std::uint64_t manifest_requests = 0;
    std::uint64_t blob_requests = 0;
    std::uint64_t token_requests = 0;
    std::uint64_t retries = 0;
    std::uint64_t bytes_received = 0;
};

struct FetchedManifest {
    std::vector<std::uint8_t> bytes;
    std::string media_type; // Content-Type
    Digest digest;          // computed from the bytes (checked against Docker-Content-Digest)
};

// A parsed WWW-Authenticate challenge.
struct AuthChallenge {
    std::string scheme;                        // "bearer" or "basic", lowercase
    std::map<std::string, std::string> params; // realm, service, scope
};
std::optional<AuthChallenge> parse_www_authenticate(std::string_view header);

class RegistryClient {
public:
    // `registry` is host[:port] as validated by parse_registry_reference.
    static Result<RegistryClient> make(std::string registry, bool loopback,
                                       RegistryOptions options);

    RegistryClient(RegistryClient&&) noexcept;
    RegistryClient& operator=(RegistryClient&&) noexcept;
    ~RegistryClient();

    // GET /v2/<repo>/manifests/<reference>; at most `max_bytes`. When
    // `reference` is a digest, the bytes are checked against it.
    Result<FetchedManifest> get_manifest(const std::string& repository,
                                         const std::string& reference, std::uint64_t max_bytes);
    // GET /v2/<repo>/blobs/<digest> streamed into `writer` (which checks size
    // and digest); redirects to storage are followed.
    Result<void> get_blob(const std::string& repository, const Digest& digest, BlobWriter& writer);

    [[nodiscard]] const RegistryStats& stats() const;
    [[nodiscard]] std::string base_url() const; // "https://host:port"

private:
    struct Impl;
    explicit RegistryClient(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace bpfleet::oci
