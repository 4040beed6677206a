// ImageWalker: walks an image's index/manifest tree from an ImageSource and
// collects the BPF objects it holds into a ResolvedArtifact: per manifest the
// platform (from the index or the image config), gadget metadata, eBPF and
// btfgen layers, or, for other packagers, layers that are an object or a tar
// of objects. Architectures not asked for are not fetched. Indexes nest at
// most 3 levels and may not reference themselves. Not thread-safe.
#pragma once

#include "oci/image_source.hpp"
#include "oci/manifest.hpp"
#include "oci/resolve.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bpfleet::oci {

class ImageWalker {
public:
    // `wanted`: OCI architecture names, empty = all. `default_name` names an
    // object whose layer and gadget give it none. `source`, `options` and
    // `out` must outlive the walker.
    ImageWalker(ImageSource& source, const ResolveOptions& options, ResolvedArtifact& out,
                std::vector<std::string> wanted, std::string default_name);

    Result<void> walk(const Descriptor& d, int depth, const std::optional<Platform>& platform);

private:
    [[nodiscard]] bool wants(const std::string& arch) const;
    void note_arch(const std::string& arch);
    Result<void> process_manifest(const Descriptor& d, const ImageManifest& man,
                                  const std::optional<Platform>& platform);
    Result<void> add_from_blob(const Descriptor& manifest, const Descriptor& layer,
                               const std::string& arch, const std::string& variant, Bytes blob);
    [[nodiscard]] std::string object_name(const Descriptor& layer) const;
    void add_object(const Descriptor& manifest, const Descriptor& layer, const std::string& arch,
                    const std::string& variant, std::string name, Bytes bytes);

    ImageSource& m_src;
    const ResolveOptions& m_opt;
    ResolvedArtifact& m_out;
    std::vector<std::string> m_wanted;
    std::string m_default_name;
    std::set<std::string> m_path; // manifests on the way down: a cycle check
};

// After a walk (or a docker archive): UNSUPPORTED_ARCH when none of the
// wanted architectures is in the image, NO_PROGRAM when no object was found.
Result<void> finish_resolution(ResolvedArtifact& out, const std::vector<std::string>& wanted);

} // namespace bpfleet::oci
