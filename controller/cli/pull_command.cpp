// bpfleet pull ARTIFACT [--arch ARCH]...: fetch and verify every manifest and
// blob an artifact needs into the cache, so that a later --offline run (an
// air-gapped lab) finds them (docs/artifacts.md).
#include "cli/artifact_options.hpp"
#include "cli/commands.hpp"
#include "oci/cache.hpp"

#include <cstdio>
#include <memory>

namespace bpfleet::cli {
namespace {

struct PullOptions {
    std::string artifact;
    ArtifactCliOptions artifact_options;
};

} // namespace

Action register_pull(CLI::App& app) {
    auto opts = std::make_shared<PullOptions>();
    auto* cmd =
        app.add_subcommand("pull", "Fetch and verify an artifact into the cache for offline runs");
    cmd->add_option("ARTIFACT", opts->artifact,
                    "a registry reference (docker://HOST/REPO:TAG, HOST/REPO@sha256:...)")
        ->required();
    add_artifact_options(cmd, opts->artifact_options, true);
    return [opts] {
        auto spec = oci::parse_artifact_spec(opts->artifact);
        if (!spec) {
            print_error(spec.error());
            return kExitUsage;
        }
        auto options = to_resolve_options(opts->artifact_options);
        auto art = oci::resolve_artifact(*spec, options);
        if (!art) {
            print_error(art.error());
            return kExitUsage;
        }
        std::printf("%s\n", art->spec.c_str());
        if (!art->image_digest.empty()) {
            std::printf("  image   %s\n", art->image_digest.c_str());
        }
        for (const auto& o : art->objects) {
            std::printf("  %-8s sha256:%s  %s  (manifest %s)\n",
                        o.arch.empty() ? "any" : o.arch.c_str(), o.object_sha256.c_str(),
                        o.name.c_str(),
                        o.manifest_digest.empty() ? "-" : o.manifest_digest.c_str());
        }
        for (const auto& m : art->missing) {
            std::printf("  %-8s no program: %s\n", m.arch.empty() ? "any" : m.arch.c_str(),
                        m.reason.c_str());
        }
        if (spec->kind == oci::SourceKind::Registry) {
            const auto& s = art->stats;
            auto dir = options.cache_dir.empty() ? oci::default_cache_dir() : options.cache_dir;
            std::printf("requests: %llu (manifests %llu, blobs %llu, tokens %llu, retries %llu), "
                        "%llu bytes; cache %s\n",
                        static_cast<unsigned long long>(s.requests),
                        static_cast<unsigned long long>(s.manifest_requests),
                        static_cast<unsigned long long>(s.blob_requests),
                        static_cast<unsigned long long>(s.token_requests),
                        static_cast<unsigned long long>(s.retries),
                        static_cast<unsigned long long>(s.bytes_received), dir.c_str());
        } else {
            std::printf("verified (local source: nothing to cache)\n");
        }
        return kExitOk;
    };
}

} // namespace bpfleet::cli
