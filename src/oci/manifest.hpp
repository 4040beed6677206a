// OCI / Docker v2 image documents: image indexes (manifest lists), image
// manifests and their descriptors, parsed from untrusted bytes with size and
// nesting limits. Plain value types. Errors: MANIFEST_INVALID naming the field.
#pragma once

#include "common/result.hpp"
#include "oci/digest.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::oci {

namespace media_type {
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kGadgetArtifact = "application/vnd.gadget.v1+binary";
inline constexpr std::string_view kGadgetConfig = "application/vnd.gadget.config.v1+yaml";
inline constexpr std::string_view kGadgetEbpf = "application/vnd.gadget.ebpf.program.v1+binary";
inline constexpr std::string_view kGadgetWasm = "application/vnd.gadget.wasm.program.v1+binary";
inline constexpr std::string_view kGadgetBtfgen = "application/vnd.gadget.btfgen.v1+binary";
// Every manifest type we read, for a registry's Accept header.
inline constexpr std::string_view kAcceptManifests =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";
} // namespace media_type

struct Platform {
    std::string os;
    std::string architecture;
    std::string variant;
};

struct Descriptor {
    std::string media_type;
    Digest digest;
    std::uint64_t size = 0;
    std::optional<Platform> platform;
    std::string artifact_type;
    std::map<std::string, std::string> annotations;

    // The annotation or "" when absent.
    [[nodiscard]] std::string annotation(const std::string& key) const;
};

struct ImageIndex {
    std::string media_type; // may be empty (gadget images)
    std::string artifact_type;
    std::vector<Descriptor> manifests;
    std::map<std::string, std::string> annotations;
};

struct ImageManifest {
    std::string media_type; // may be empty (gadget images)
    std::string artifact_type;
    Descriptor config;
    std::vector<Descriptor> layers;
    std::optional<Descriptor> subject; // set on referrers (signatures, attestations)
    std::map<std::string, std::string> annotations;
};

struct ImageDocument {
    std::optional<ImageIndex> index; // exactly one of index / manifest is set
    std::optional<ImageManifest> manifest;
};

inline constexpr std::size_t kMaxManifestBytes = 4 * 1024 * 1024;
inline constexpr int kMaxJsonDepth = 32;
inline constexpr std::size_t kMaxDescriptors = 1024;

// Parses a manifest or an index. `declared_media_type` is the Content-Type or
// the parent descriptor's media type (may be empty); the document's own
// mediaType wins, and without one the shape decides ("manifests" → index).
// Docker schema 1 manifests are refused.
Result<ImageDocument> parse_image_document(std::span<const std::uint8_t> bytes,
                                           std::string_view declared_media_type = {});

// Whether a descriptor / manifest is a signature, attestation or other
// referrer that carries no program (cosign .sig/.att, notation, buildx
// attestations, anything with a subject).
bool is_signature_descriptor(const Descriptor& d);
bool is_signature_manifest(const ImageManifest& m);

// Gadget metadata from application/vnd.gadget.config.v1+yaml: the top-level
// scalar keys only (name, description, homepageURL, documentationURL,
// sourceURL); nothing else of the YAML is interpreted.
struct GadgetMetadata {
    std::string name;
    std::string description;
    std::string homepage_url;
    std::string documentation_url;
    std::string source_url;
    std::map<std::string, std::string> annotations; // manifest annotations
};
GadgetMetadata parse_gadget_config(std::string_view yaml);

} // namespace bpfleet::oci
