#include "oci/image_walker.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace bpfleet::oci {
namespace {

constexpr int kMaxIndexDepth = 3;

} // namespace

ImageWalker::ImageWalker(ImageSource& source, const ResolveOptions& options, ResolvedArtifact& out,
                         std::vector<std::string> wanted, std::string default_name)
    : m_src(source), m_opt(options), m_out(out), m_wanted(std::move(wanted)),
      m_default_name(std::move(default_name)) {}

Result<void> ImageWalker::walk(const Descriptor& d, int depth,
                               const std::optional<Platform>& platform) {
    if (depth > kMaxIndexDepth) {
        return make_error("MANIFEST_INVALID",
                          "indexes nested deeper than " + std::to_string(kMaxIndexDepth) +
                              " levels",
                          0, "manifest " + d.digest.str());
    }
    if (!m_path.insert(d.digest.str()).second) {
        return make_error("MANIFEST_INVALID",
                          "the index references itself (a cycle through " + d.digest.str() + ")", 0,
                          "manifest " + d.digest.str());
    }
    Bytes bytes;
    TRY_ASSIGN(bytes, m_src.fetch(d, true, kMaxManifestBytes, "manifest " + d.digest.str()));
    auto doc = parse_image_document(bytes, d.media_type);
    if (!doc) {
        return tl::unexpected(with_context(doc.error(), "manifest " + d.digest.str()));
    }
    if (doc->index) {
        for (const auto& m : doc->index->manifests) {
            if (is_signature_descriptor(m)) {
                m_out.notes.push_back("skipped signature/attestation manifest " + m.digest.str());
                continue;
            }
            if (m.platform && !m.platform->architecture.empty()) {
                note_arch(m.platform->architecture);
                if (!m.platform->os.empty() && m.platform->os != "linux") {
                    m_out.notes.push_back("skipped " + ascii_safe(m.platform->os) + "/" +
                                          ascii_safe(m.platform->architecture) + " manifest " +
                                          m.digest.str());
                    continue;
                }
                if (!wants(m.platform->architecture)) {
                    continue; // not asked for: not even fetched
                }
            }
            TRY(walk(m, depth + 1, m.platform ? m.platform : platform));
        }
    } else {
        const ImageManifest& man = *doc->manifest;
        if (is_signature_manifest(man)) {
            m_out.notes.push_back("skipped signature manifest " + d.digest.str());
        } else {
            TRY(process_manifest(d, man, platform));
        }
    }
    m_path.erase(d.digest.str());
    return {};
}

bool ImageWalker::wants(const std::string& arch) const {
    return m_wanted.empty() || arch.empty() ||
           std::find(m_wanted.begin(), m_wanted.end(), arch) != m_wanted.end();
}

void ImageWalker::note_arch(const std::string& arch) {
    std::string a = ascii_safe(arch, 40);
    if (std::find(m_out.available_arches.begin(), m_out.available_arches.end(), a) ==
        m_out.available_arches.end()) {
        m_out.available_arches.push_back(a);
    }
}

Result<void> ImageWalker::process_manifest(const Descriptor& d, const ImageManifest& man,
                                           const std::optional<Platform>& platform) {
    std::string arch = platform ? ascii_safe(platform->architecture, 40) : "";
    std::string variant = platform ? ascii_safe(platform->variant, 40) : "";
    const auto& cfg = man.config;
    bool gadget = man.artifact_type == media_type::kGadgetArtifact ||
                  cfg.media_type == media_type::kGadgetConfig;
    if (cfg.media_type == media_type::kGadgetConfig && cfg.size <= kMaxConfigBytes) {
        Bytes yaml;
        TRY_ASSIGN(yaml, m_src.fetch(cfg, false, kMaxConfigBytes, "config " + cfg.digest.str()));
        GadgetMetadata meta = parse_gadget_config(
            std::string_view(reinterpret_cast<const char*>(yaml.data()), yaml.size()));
        meta.annotations = man.annotations;
        if (!m_out.gadget) {
            m_out.gadget = std::move(meta);
        }
    } else if ((cfg.media_type == media_type::kOciConfig ||
                cfg.media_type == media_type::kDockerConfig) &&
               arch.empty() && cfg.size <= kMaxConfigBytes) {
        Bytes json;
        TRY_ASSIGN(json, m_src.fetch(cfg, false, kMaxConfigBytes, "config " + cfg.digest.str()));
        auto j = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
        if (!j.is_discarded() && j.is_object()) {
            if (auto a = j.find("architecture"); a != j.end() && a->is_string()) {
                arch = ascii_safe(a->get<std::string>(), 40);
            }
            if (auto v = j.find("variant"); v != j.end() && v->is_string()) {
                variant = ascii_safe(v->get<std::string>(), 40);
            }
        }
    }
    if (!arch.empty()) {
        note_arch(arch);
        if (!wants(arch)) {
            return {};
        }
    }
    std::size_t first = m_out.objects.size();
    std::optional<BtfgenBlob> btfgen;
    std::vector<std::string> seen_types;
    for (const auto& layer : man.layers) {
        std::string what = "layer " + layer.digest.str();
        seen_types.push_back(
            ascii_safe(layer.media_type.empty() ? "(no media type)" : layer.media_type, 80));
        if (layer.media_type == media_type::kGadgetEbpf) {
            Bytes obj;
            TRY_ASSIGN(obj, m_src.fetch(layer, false, m_opt.max_object_bytes, what));
            if (!is_bpf_elf(obj)) {
                return make_error("ARTIFACT_INVALID",
                                  "the eBPF program layer is not a BPF ELF object", 0,
                                  "manifest " + d.digest.str() + ", " + what);
            }
            add_object(d, layer, arch, variant, object_name(layer), std::move(obj));
        } else if (layer.media_type == media_type::kGadgetBtfgen) {
            if (m_opt.fetch_btfgen) {
                BtfgenBlob b;
                b.digest = layer.digest.str();
                b.size = layer.size;
                TRY_ASSIGN(b.path, m_src.ensure_cached(layer, m_opt.max_blob_bytes, what));
                if (b.path.empty()) {
                    Bytes blob;
                    TRY_ASSIGN(blob, m_src.fetch(layer, false, m_opt.max_blob_bytes, what));
                    b.size = blob.size();
                    b.bytes = std::make_shared<const Bytes>(std::move(blob));
                }
                btfgen = std::move(b);
            }
        } else if (layer.media_type == media_type::kGadgetWasm || gadget) {
            continue; // gadget layers we do not run
        } else if (layer.size <= m_opt.max_blob_bytes) {
            // Other packagers: the layer is an object, or a tar of them.
            Bytes blob;
            TRY_ASSIGN(blob, m_src.fetch(layer, false, m_opt.max_blob_bytes, what));
            TRY(add_from_blob(d, layer, arch, variant, std::move(blob)));
        }
    }
    for (std::size_t i = first; i < m_out.objects.size(); ++i) {
        m_out.objects[i].btfgen = btfgen;
    }
    if (m_out.objects.size() == first) {
        std::string types;
        for (const auto& t : seen_types) {
            types += (types.empty() ? "" : ", ") + t;
        }
        m_out.missing.push_back(
            MissingArch{arch, "this image has no eBPF program for " +
                                  (arch.empty() ? std::string("its architecture") : arch) +
                                  " (manifest " + short_digest(d.digest) +
                                  ", layers: " + (types.empty() ? "none" : types) + ")"});
    }
    return {};
}

Result<void> ImageWalker::add_from_blob(const Descriptor& manifest, const Descriptor& layer,
                                        const std::string& arch, const std::string& variant,
                                        Bytes blob) {
    if (is_bpf_elf(blob)) {
        add_object(manifest, layer, arch, variant, object_name(layer), std::move(blob));
        return {};
    }
    if (!looks_like_archive(blob)) {
        return {};
    }
    auto contents = read_archive_memory(blob, "layer " + layer.digest.str(), m_opt.archive_limits);
    if (!contents) {
        return tl::unexpected(contents.error());
    }
    for (auto& [path, data] : contents->files) {
        if (is_bpf_elf(data)) {
            add_object(manifest, layer, arch, variant, path, std::move(data));
        }
    }
    return {};
}

std::string ImageWalker::object_name(const Descriptor& layer) const {
    std::string title = layer.annotation("org.opencontainers.image.title");
    if (!title.empty() && title.find('/') == std::string::npos && title.size() < 200) {
        return ascii_safe(title);
    }
    if (m_out.gadget && !m_out.gadget->name.empty()) {
        return ascii_safe(m_out.gadget->name, 100) + ".bpf.o";
    }
    return m_default_name;
}

void ImageWalker::add_object(const Descriptor& manifest, const Descriptor& layer,
                             const std::string& arch, const std::string& variant, std::string name,
                             Bytes bytes) {
    ResolvedObject o;
    o.arch = arch;
    o.variant = variant;
    o.name = std::move(name);
    o.manifest_digest = manifest.digest.str();
    o.layer_digest = layer.digest.str();
    o.media_type = ascii_safe(layer.media_type, 120);
    o.object_sha256 = sha256_digest(bytes).hex;
    o.bytes = std::make_shared<const Bytes>(std::move(bytes));
    m_out.objects.push_back(std::move(o));
}

Result<void> finish_resolution(ResolvedArtifact& out, const std::vector<std::string>& wanted) {
    if (!out.objects.empty()) {
        return {};
    }
    std::string have;
    for (const auto& a : out.available_arches) {
        have += (have.empty() ? "" : ", ") + a;
    }
    if (!wanted.empty() && !out.available_arches.empty()) {
        bool any = false;
        for (const auto& w : wanted) {
            any = any || std::find(out.available_arches.begin(), out.available_arches.end(), w) !=
                             out.available_arches.end();
        }
        if (!any) {
            std::string want;
            for (const auto& w : wanted) {
                want += (want.empty() ? "" : ", ") + w;
            }
            return make_error("UNSUPPORTED_ARCH",
                              "the image has no manifest for " + want + " (it has: " + have + ")",
                              0, "artifact " + out.spec);
        }
    }
    std::string reason =
        out.missing.empty() ? "the image has no eBPF program" : out.missing.front().reason;
    return make_error("NO_PROGRAM", reason, 0, "artifact " + out.spec);
}

} // namespace bpfleet::oci
