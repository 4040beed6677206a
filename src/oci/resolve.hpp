// resolve_artifact(): from an ARTIFACT argument to the verified BPF objects it
// holds, one or more per architecture. This is the API the fleet runner calls
// before it talks to any host:
//
//   oci::ResolveOptions opts;               // cache, offline, auth, TLS, --arch
//   auto art = oci::resolve_artifact(spec_text, opts);
//   if (!art) { /* art.error(): code, message, context; exit 2 */ }
//   auto objs = art->objects_for_machine(host_uname_m);   // "x86_64", "aarch64"
//   if (!objs) { /* host status unsupported_arch, objs.error().message says why */ }
//   for (const ResolvedObject* o : *objs) {
//       // o->bytes (ObjectBytes for inspect_object / the agent), o->object_sha256,
//       // art->image_digest, o->manifest_digest: record them per host in the report.
//   }
//
// Every manifest and blob is checked against its digest (sha256, sha512)
// before use, with size limits; registry blobs go through the cache
// (oci/cache.hpp) so a second resolve of the same digest makes no blob
// request, and `offline` resolves from the cache only. Local layouts and
// archives are read in memory and never written anywhere.
//
// resolve_artifact() may run in several threads or processes at once, even on
// one cache directory (every write is an atomic rename of a verified blob);
// results are plain values. Errors (all map to exit status 2): ARTIFACT_INVALID,
// ARTIFACT_NOT_FOUND, MANIFEST_INVALID, DIGEST_MISMATCH, ARCHIVE_UNSAFE,
// ARCHIVE_INVALID, LIMIT_EXCEEDED, NO_PROGRAM, UNSUPPORTED_ARCH, CACHE_MISS
// (offline), CACHE_ERROR, NETWORK, AUTH_FAILED, NOT_FOUND, REGISTRY_ERROR,
// CREDENTIALS_INVALID.
#pragma once

#include "common/object_bytes.hpp"
#include "common/result.hpp"
#include "oci/archive.hpp"
#include "oci/credentials.hpp"
#include "oci/manifest.hpp"
#include "oci/reference.hpp"
#include "oci/registry_client.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::oci {

struct ResolveOptions {
    std::vector<std::string> architectures; // OCI names or uname -m; empty = every one present
    bool offline = false;                   // registry references from the cache only
    std::filesystem::path cache_dir;        // empty = default_cache_dir()
    RegistryOptions registry;               // TLS, plain HTTP, timeouts, retries
    CredentialOptions credentials; // looked up per registry unless registry.credentials is set
    std::uint64_t max_blob_bytes = 256ULL * 1024 * 1024;
    std::uint64_t max_object_bytes = 64ULL * 1024 * 1024;
    ArchiveLimits archive_limits;
    bool fetch_btfgen = true; // download gadget btfgen layers (external BTF)
};

struct BtfgenBlob {
    std::string digest;
    std::uint64_t size = 0;
    std::filesystem::path path; // in the cache for registry sources, empty otherwise
    std::shared_ptr<const std::vector<std::uint8_t>> bytes; // in memory for local sources
};

struct ResolvedObject {
    std::string arch;            // OCI architecture ("amd64", "arm64"), "" = any architecture
    std::string variant;         // "v7" for arm/v7, usually empty
    std::string name;            // "trace_exec.bpf.o", or the path inside a layer
    std::string manifest_digest; // the per-architecture manifest ("" for a plain object)
    std::string layer_digest;    // the blob holding the object ("" for a plain object)
    std::string media_type;      // the layer's media type
    std::string object_sha256;   // hex sha256 of the object bytes
    ObjectBytes bytes;
    std::optional<BtfgenBlob> btfgen;
};

// An architecture the image covers but that gave no program, and why.
struct MissingArch {
    std::string arch;
    std::string reason;
};

struct ResolvedArtifact {
    std::string spec; // the ARTIFACT argument
    SourceKind kind = SourceKind::ObjectFile;
    std::string image_digest; // digest of the top document (index or manifest), "" for an object
    std::string reference;    // registry reference or layout tag that was resolved
    std::optional<GadgetMetadata> gadget;
    std::vector<ResolvedObject> objects;
    std::vector<MissingArch> missing;          // manifests without an eBPF program
    std::vector<std::string> notes;            // skipped signatures, attestations, ...
    std::vector<std::string> available_arches; // every architecture the image lists
    RegistryStats stats;                       // registry traffic (zero for local sources)
    bool from_cache_only = false;              // no network was used

    // The objects for a host of this `uname -m`: those of its architecture plus
    // architecture-neutral ones. UNSUPPORTED_ARCH (naming what the image has)
    // when there are none.
    [[nodiscard]] Result<std::vector<const ResolvedObject*>>
    objects_for_machine(std::string_view machine) const;
    // The same for an OCI architecture name.
    [[nodiscard]] Result<std::vector<const ResolvedObject*>>
    objects_for_arch(std::string_view oci_arch) const;
};

Result<ResolvedArtifact> resolve_artifact(const ArtifactSpec& spec, const ResolveOptions& options);
Result<ResolvedArtifact> resolve_artifact(std::string_view spec, const ResolveOptions& options);

// Whether bytes are an ELF object for the BPF machine (EM_BPF), either endianness.
bool is_bpf_elf(std::span<const std::uint8_t> bytes);

} // namespace bpfleet::oci
