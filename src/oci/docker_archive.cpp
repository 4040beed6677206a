#include "oci/docker_archive.hpp"

#include "oci/resolve_detail.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace bpfleet::oci {

Result<void> resolve_docker_archive(const ArchiveContents& contents, const std::string& name,
                                    const ResolveOptions& options,
                                    const std::vector<std::string>& wanted, ResolvedArtifact& out) {
    std::string where = "docker archive " + name;
    const Bytes* manifest = contents.find("manifest.json");
    if (manifest == nullptr) {
        return make_error("ARTIFACT_INVALID", "no manifest.json (not a docker-save archive)", 0,
                          where);
    }
    if (manifest->size() > kMaxManifestBytes) {
        return make_error("LIMIT_EXCEEDED", "manifest.json is over the size limit", 0, where);
    }
    auto j = nlohmann::json::parse(manifest->begin(), manifest->end(), nullptr, false);
    if (j.is_discarded() || !j.is_array() || j.empty() || !j[0].is_object()) {
        return make_error("MANIFEST_INVALID", "manifest.json is not a non-empty array of images", 0,
                          where);
    }
    if (j.size() > 1) {
        return make_error("ARTIFACT_INVALID",
                          "the archive holds " + std::to_string(j.size()) +
                              " images; save one image per archive",
                          0, where);
    }
    const auto& entry = j[0];
    auto config_it = entry.find("Config");
    auto layers_it = entry.find("Layers");
    if (config_it == entry.end() || !config_it->is_string() || layers_it == entry.end() ||
        !layers_it->is_array()) {
        return make_error("MANIFEST_INVALID", "manifest.json lacks Config or Layers", 0, where);
    }
    auto file = [&](const std::string& raw, std::string& norm) -> Result<const Bytes*> {
        TRY_ASSIGN(norm, normalise_entry_path(raw));
        const Bytes* data = contents.find(norm);
        if (data == nullptr) {
            return make_error("ARTIFACT_NOT_FOUND", "'" + ascii_safe(raw) + "' is missing", 0,
                              where);
        }
        return data;
    };
    // A path that names its digest: blobs/sha256/<hex> or <hex>.json.
    auto digest_in_path = [](const std::string& path) -> std::optional<Digest> {
        std::string hex = path;
        if (hex.starts_with("blobs/sha256/")) {
            hex = hex.substr(13);
        } else if (hex.ends_with(".json")) {
            hex = hex.substr(0, hex.size() - 5);
        } else {
            return std::nullopt;
        }
        auto d = parse_digest("sha256:" + hex);
        return d ? std::optional<Digest>(*d) : std::nullopt;
    };
    std::string config_path;
    const Bytes* config = nullptr;
    TRY_ASSIGN(config, file(config_it->get<std::string>(), config_path));
    if (config->size() > kMaxConfigBytes) {
        return make_error("LIMIT_EXCEEDED", "image config is over the size limit", 0, where);
    }
    Digest config_digest = sha256_digest(*config);
    if (auto named = digest_in_path(config_path); named) {
        TRY(verify_digest(*config, *named, where + ", config " + config_path));
    }
    out.image_digest = config_digest.str();
    auto cj = nlohmann::json::parse(config->begin(), config->end(), nullptr, false);
    if (cj.is_discarded() || !cj.is_object()) {
        return make_error("MANIFEST_INVALID", "image config is not a JSON object", 0, where);
    }
    std::string arch = cj.contains("architecture") && cj["architecture"].is_string()
                           ? ascii_safe(cj["architecture"].get<std::string>(), 40)
                           : "";
    std::string variant = cj.contains("variant") && cj["variant"].is_string()
                              ? ascii_safe(cj["variant"].get<std::string>(), 40)
                              : "";
    std::vector<Digest> diff_ids;
    if (auto rootfs = cj.find("rootfs"); rootfs != cj.end() && rootfs->is_object()) {
        if (auto ids = rootfs->find("diff_ids"); ids != rootfs->end() && ids->is_array()) {
            for (const auto& id : *ids) {
                auto d = id.is_string() ? parse_digest(id.get<std::string>())
                                        : Result<Digest>(tl::unexpected(Error{}));
                if (!d) {
                    return make_error("MANIFEST_INVALID", "rootfs.diff_ids has an invalid digest",
                                      0, where);
                }
                diff_ids.push_back(*d);
            }
        }
    }
    if (!arch.empty()) {
        out.available_arches.push_back(arch);
    }
    bool wanted_arch = wanted.empty() || arch.empty() ||
                       std::find(wanted.begin(), wanted.end(), arch) != wanted.end();
    if (!wanted_arch) {
        return {};
    }
    for (std::size_t i = 0; i < layers_it->size(); ++i) {
        const auto& l = (*layers_it)[i];
        if (!l.is_string()) {
            return make_error("MANIFEST_INVALID", "Layers has a non-string entry", 0, where);
        }
        std::string layer_path;
        const Bytes* layer = nullptr;
        TRY_ASSIGN(layer, file(l.get<std::string>(), layer_path));
        std::string lwhere = where + ", layer " + layer_path;
        Digest layer_digest;
        if (auto named = digest_in_path(layer_path); named) {
            TRY(verify_digest(*layer, *named, lwhere));
            layer_digest = *named;
        } else if (i < diff_ids.size()) {
            TRY(verify_digest(*layer, diff_ids[i], lwhere));
            layer_digest = diff_ids[i];
        } else {
            return make_error("DIGEST_MISMATCH", "the layer has no digest to check it against", 0,
                              lwhere);
        }
        Descriptor d;
        d.digest = layer_digest;
        d.size = layer->size();
        std::vector<std::pair<std::string, Bytes>> found;
        if (is_bpf_elf(*layer)) {
            found.emplace_back(layer_path, *layer);
        } else {
            auto files = read_archive_memory(*layer, lwhere, options.archive_limits);
            if (!files) {
                return tl::unexpected(files.error());
            }
            for (auto& [path, data] : files->files) {
                if (is_bpf_elf(data)) {
                    found.emplace_back(path, std::move(data));
                }
            }
        }
        for (auto& [path, data] : found) {
            ResolvedObject o;
            o.arch = arch;
            o.variant = variant;
            o.name = path;
            o.manifest_digest = config_digest.str();
            o.layer_digest = layer_digest.str();
            o.media_type = "application/vnd.docker.image.rootfs.diff.tar";
            o.object_sha256 = sha256_digest(data).hex;
            o.bytes = std::make_shared<const Bytes>(std::move(data));
            out.objects.push_back(std::move(o));
        }
    }
    if (out.objects.empty()) {
        out.missing.push_back(
            MissingArch{arch, "this image has no eBPF program for " +
                                  (arch.empty() ? std::string("its architecture") : arch) +
                                  " (no BPF ELF file in its layers)"});
    }
    return {};
}

} // namespace bpfleet::oci
