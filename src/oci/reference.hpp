// What an ARTIFACT argument names (docs/artifacts.md): a plain .bpf.o, an OCI
// image-layout directory, a tar/tar.gz archive of one or a docker-save
// archive, or a registry reference. Parsing never touches the network; it
// looks at the file system only to tell a path from a bare registry reference.
// Errors: ARTIFACT_INVALID naming the argument.
#pragma once

#include "common/result.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace bpfleet::oci {

enum class SourceKind {
    ObjectFile,    // a BPF ELF object
    LayoutDir,     // an OCI image-layout directory (oci:DIR[:TAG] or a directory path)
    Archive,       // a tar or tar.gz: OCI layout inside, or docker-save (detected when read)
    DockerArchive, // docker-archive:FILE
    Registry,      // docker://... or a bare HOST/REPO[:TAG][@DIGEST]
};

std::string_view to_string(SourceKind kind);

// A registry reference, validated against the distribution grammar so that
// every part is safe in a URL and as a cache path.
struct RegistryReference {
    std::string registry;   // "127.0.0.1:5000", "ghcr.io"; docker.io becomes registry-1.docker.io
    std::string repository; // "gadget/trace_exec"
    std::string tag;        // empty when only a digest was given
    std::string digest;     // "sha256:..." or empty

    // The tag or the digest, as used in /v2/<repo>/manifests/<reference>.
    [[nodiscard]] std::string reference() const { return digest.empty() ? tag : digest; }
    // "registry/repository:tag@digest", for messages.
    [[nodiscard]] std::string str() const;
    // The registry host is 127.0.0.0/8, ::1 or localhost.
    [[nodiscard]] bool is_loopback() const;
};

struct ArtifactSpec {
    std::string original; // the argument as given
    // The argument was a gadget short name (`trace_exec`, `trace_open:v0.30.0`)
    // and `registry` is its expansion under the gadget prefix.
    bool short_name = false;
    SourceKind kind = SourceKind::ObjectFile;
    std::string path; // file or directory for local kinds
    std::string tag;  // oci:DIR:TAG / oci-archive:FILE:TAG
    std::optional<RegistryReference> registry;
};

// Parses "HOST/REPO[:TAG][@sha256:HEX]" (no transport prefix). With
// `default_docker_hub`, a reference without a host means Docker Hub (the
// docker:// transport); without it, a host is required.
Result<RegistryReference> parse_registry_reference(std::string_view text,
                                                   bool default_docker_hub = false);

// Where gadget short names live, as Inspektor Gadget has them: a short name
// NAME[:TAG] is PREFIX/NAME[:TAG], with `latest` when untagged.
inline constexpr std::string_view kDefaultGadgetPrefix = "ghcr.io/inspektor-gadget/gadget";
// $BPFLEET_GADGET_PREFIX (a registry mirror: HOST/REPO), else the default.
// Errors: ARTIFACT_INVALID naming the variable when it is not HOST/REPO.
Result<std::string> gadget_prefix();

// Parses an ARTIFACT argument (DESIGN.md "Command line"). A file is told by
// its first bytes: an ELF header is an object; a tar header or a gzip, xz,
// zstd or bzip2 stream is an archive; anything else is refused here. A word
// of lowercase letters, digits, '_' and '-' (with an optional :TAG or
// @DIGEST) that is no file is a gadget short name (gadget_prefix()).
Result<ArtifactSpec> parse_artifact_spec(std::string_view text);

} // namespace bpfleet::oci
