#include "oci/resolve.hpp"

#include "common/arch.hpp"
#include "oci/cache.hpp"
#include "oci/docker_archive.hpp"
#include "oci/image_source.hpp"
#include "oci/image_walker.hpp"
#include "oci/resolve_detail.hpp"

#include <algorithm>

namespace bpfleet::oci {
namespace {

namespace fs = std::filesystem;

Result<std::vector<std::string>> normalise_wanted(const std::vector<std::string>& arches) {
    std::vector<std::string> out;
    for (const auto& a : arches) {
        auto oci = oci_arch_name(a);
        if (!oci) {
            return make_error("ARTIFACT_INVALID",
                              "unknown architecture '" + ascii_safe(a, 40) +
                                  "' (use an OCI name like amd64, arm64 or a uname -m)");
        }
        if (std::find(out.begin(), out.end(), *oci) == out.end()) {
            out.push_back(*oci);
        }
    }
    return out;
}

} // namespace

bool is_bpf_elf(std::span<const std::uint8_t> b) {
    if (b.size() < 20 || b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F') {
        return false;
    }
    unsigned machine = b[5] == 2 ? (unsigned{b[18]} << 8) | b[19] : (unsigned{b[19]} << 8) | b[18];
    return machine == 247; // EM_BPF
}

Result<std::vector<const ResolvedObject*>>
ResolvedArtifact::objects_for_arch(std::string_view oci_arch) const {
    std::vector<const ResolvedObject*> out;
    for (const auto& o : objects) {
        if (o.arch.empty() || o.arch == oci_arch) {
            out.push_back(&o);
        }
    }
    if (!out.empty()) {
        return out;
    }
    for (const auto& m : missing) {
        if (m.arch == oci_arch) {
            return make_error("UNSUPPORTED_ARCH", m.reason, 0, "artifact " + spec);
        }
    }
    std::string have;
    for (const auto& o : objects) {
        if (have.find(o.arch) == std::string::npos) {
            have += (have.empty() ? "" : ", ") + o.arch;
        }
    }
    return make_error("UNSUPPORTED_ARCH",
                      "no eBPF object for " + std::string(oci_arch) +
                          " (the artifact has: " + (have.empty() ? "none" : have) + ")",
                      0, "artifact " + spec);
}

Result<std::vector<const ResolvedObject*>>
ResolvedArtifact::objects_for_machine(std::string_view machine) const {
    auto arch = oci_arch_name(machine);
    if (!arch) {
        return make_error("UNSUPPORTED_ARCH",
                          "unknown machine '" + std::string(machine.substr(0, 40)) + "'", 0,
                          "artifact " + spec);
    }
    return objects_for_arch(*arch);
}

Result<ResolvedArtifact> resolve_artifact(std::string_view spec, const ResolveOptions& options) {
    ArtifactSpec parsed;
    TRY_ASSIGN(parsed, parse_artifact_spec(spec));
    return resolve_artifact(parsed, options);
}

Result<ResolvedArtifact> resolve_artifact(const ArtifactSpec& spec, const ResolveOptions& options) {
    ResolvedArtifact out;
    // A gadget short name is shown as the reference it stands for.
    out.spec = spec.short_name ? spec.registry->str() : spec.original;
    out.kind = spec.kind;
    std::vector<std::string> wanted;
    TRY_ASSIGN(wanted, normalise_wanted(options.architectures));
    std::string base_name = fs::path(spec.path).filename().string();

    switch (spec.kind) {
    case SourceKind::ObjectFile: {
        DirTree tree(fs::path(spec.path).parent_path().empty() ? fs::path(".")
                                                               : fs::path(spec.path).parent_path());
        std::optional<Bytes> data;
        TRY_ASSIGN(data, tree.read(base_name, options.max_object_bytes));
        if (!data) {
            return make_error("ARTIFACT_NOT_FOUND", "no such file", 0, "artifact " + spec.original);
        }
        if (!is_bpf_elf(*data)) {
            return make_error("ARTIFACT_INVALID",
                              "an ELF file, but not a BPF object (e_machine is not EM_BPF)", 0,
                              "artifact " + spec.original);
        }
        ResolvedObject o;
        o.name = base_name;
        o.object_sha256 = sha256_digest(*data).hex;
        o.bytes = std::make_shared<const Bytes>(std::move(*data));
        out.objects.push_back(std::move(o));
        out.from_cache_only = true;
        return out;
    }
    case SourceKind::LayoutDir: {
        std::error_code ec;
        if (!fs::is_directory(spec.path, ec)) {
            return make_error("ARTIFACT_NOT_FOUND", "no such directory", 0,
                              "artifact " + spec.original);
        }
        DirTree tree(spec.path);
        LayoutSource source(tree, spec.tag);
        Descriptor root;
        TRY_ASSIGN(root, source.root());
        out.image_digest = root.digest.str();
        out.reference = spec.tag;
        ImageWalker walker(source, options, out, wanted, "program.bpf.o");
        TRY(walker.walk(root, 0, root.platform));
        TRY(finish_resolution(out, wanted));
        out.from_cache_only = true;
        return out;
    }
    case SourceKind::Archive:
    case SourceKind::DockerArchive: {
        std::error_code ec;
        if (!fs::is_regular_file(spec.path, ec)) {
            return make_error("ARTIFACT_NOT_FOUND", "no such file", 0, "artifact " + spec.original);
        }
        ArchiveContents contents;
        TRY_ASSIGN(contents, read_archive_file(spec.path, options.archive_limits));
        bool layout =
            contents.find("index.json") != nullptr && contents.find("oci-layout") != nullptr;
        if (spec.kind == SourceKind::Archive && layout) {
            ArchiveTree tree(contents, spec.path);
            LayoutSource source(tree, spec.tag);
            Descriptor root;
            TRY_ASSIGN(root, source.root());
            out.image_digest = root.digest.str();
            out.reference = spec.tag;
            ImageWalker walker(source, options, out, wanted, "program.bpf.o");
            TRY(walker.walk(root, 0, root.platform));
        } else if (contents.find("manifest.json") != nullptr) {
            out.kind = SourceKind::DockerArchive;
            TRY(resolve_docker_archive(contents, spec.path, options, wanted, out));
        } else {
            return make_error(
                "ARTIFACT_INVALID",
                "the archive holds neither an OCI image layout (oci-layout, index.json) nor a "
                "docker-save image (manifest.json)",
                0, "archive " + spec.path);
        }
        TRY(finish_resolution(out, wanted));
        out.from_cache_only = true;
        return out;
    }
    case SourceKind::Registry: {
        const RegistryReference& ref = *spec.registry;
        out.reference = ref.str();
        BlobCache cache(options.cache_dir.empty() ? default_cache_dir() : options.cache_dir);
        RegistrySource source(ref, options, cache);
        auto root = source.root();
        if (!root) {
            out.stats = source.stats();
            return tl::unexpected(root.error());
        }
        out.image_digest = root->digest.str();
        std::string repo_base = ref.repository.substr(ref.repository.rfind('/') + 1);
        ImageWalker walker(source, options, out, wanted, repo_base + ".bpf.o");
        auto walked = walker.walk(*root, 0, std::nullopt);
        out.stats = source.stats();
        out.from_cache_only = !source.used_network();
        TRY(walked);
        TRY(finish_resolution(out, wanted));
        return out;
    }
    }
    return make_error("ARTIFACT_INVALID", "unknown artifact kind");
}

} // namespace bpfleet::oci
