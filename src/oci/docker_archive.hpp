// A `docker save` archive (manifest.json, an image config, layer tars) read
// into memory: its one image's architecture and the BPF objects in its layers,
// each layer checked against the digest its path or the config's diff_ids
// give. Used by resolve_artifact() for docker-archive: and plain .tar
// artifacts that hold no OCI layout.
#pragma once

#include "oci/archive.hpp"
#include "oci/resolve.hpp"

#include <string>
#include <vector>

namespace bpfleet::oci {

// Adds the image's objects (or a MissingArch) to `out`; `name` is the archive
// for messages, `wanted` the OCI architectures asked for (empty = any).
Result<void> resolve_docker_archive(const ArchiveContents& contents, const std::string& name,
                                    const ResolveOptions& options,
                                    const std::vector<std::string>& wanted, ResolvedArtifact& out);

} // namespace bpfleet::oci
