#include "oci/manifest.hpp"

#include "common/json_depth.hpp"

#include <nlohmann/json.hpp>

namespace bpfleet::oci {
namespace {

using Json = nlohmann::json;

Result<void> invalid(const std::string& why) {
    return make_error("MANIFEST_INVALID", why);
}

Result<std::string> get_string(const Json& obj, const char* key, bool required,
                               const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        if (required) {
            TRY(invalid(where + ": missing \"" + key + "\""));
        }
        return std::string{};
    }
    if (!it->is_string()) {
        TRY(invalid(where + ": \"" + key + "\" is not a string"));
    }
    auto s = it->get<std::string>();
    if (s.size() > 4096) {
        TRY(invalid(where + ": \"" + key + "\" is longer than 4096 characters"));
    }
    return s;
}

Result<std::map<std::string, std::string>> get_annotations(const Json& obj,
                                                           const std::string& where) {
    std::map<std::string, std::string> out;
    auto it = obj.find("annotations");
    if (it == obj.end() || it->is_null()) {
        return out;
    }
    if (!it->is_object()) {
        TRY(invalid(where + ": \"annotations\" is not an object"));
    }
    for (auto& [k, v] : it->items()) {
        if (!v.is_string()) {
            TRY(invalid(where + ": annotation \"" + k.substr(0, 100) + "\" is not a string"));
        }
        out.emplace(k, v.get<std::string>());
    }
    return out;
}

Result<Descriptor> parse_descriptor(const Json& j, const std::string& where) {
    if (!j.is_object()) {
        TRY(invalid(where + ": descriptor is not an object"));
    }
    Descriptor d;
    TRY_ASSIGN(d.media_type, get_string(j, "mediaType", false, where));
    std::string digest;
    TRY_ASSIGN(digest, get_string(j, "digest", true, where));
    auto parsed = parse_digest(digest);
    if (!parsed) {
        TRY(invalid(where + ": " + parsed.error().message));
    }
    d.digest = *parsed;
    auto size = j.find("size");
    if (size == j.end() || !size->is_number_integer()) {
        TRY(invalid(where + ": missing or non-integer \"size\""));
    }
    if (size->is_number_unsigned()) {
        d.size = size->get<std::uint64_t>();
    } else {
        auto s = size->get<std::int64_t>();
        if (s < 0) {
            TRY(invalid(where + ": negative \"size\""));
        }
        d.size = static_cast<std::uint64_t>(s);
    }
    TRY_ASSIGN(d.artifact_type, get_string(j, "artifactType", false, where));
    TRY_ASSIGN(d.annotations, get_annotations(j, where));
    auto platform = j.find("platform");
    if (platform != j.end() && !platform->is_null()) {
        if (!platform->is_object()) {
            TRY(invalid(where + ": \"platform\" is not an object"));
        }
        Platform p;
        TRY_ASSIGN(p.os, get_string(*platform, "os", false, where + ".platform"));
        TRY_ASSIGN(p.architecture,
                   get_string(*platform, "architecture", false, where + ".platform"));
        TRY_ASSIGN(p.variant, get_string(*platform, "variant", false, where + ".platform"));
        d.platform = p;
    }
    return d;
}

bool is_index_type(std::string_view t) {
    return t == media_type::kOciIndex || t == media_type::kDockerList;
}
bool is_manifest_type(std::string_view t) {
    return t == media_type::kOciManifest || t == media_type::kDockerManifest;
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    if (s.size() >= 2 &&
        ((s.front() == '"' && s.back() == '"') || (s.front() == '\'' && s.back() == '\''))) {
        s = s.substr(1, s.size() - 2);
    }
    return std::string(s);
}

} // namespace

std::string Descriptor::annotation(const std::string& key) const {
    auto it = annotations.find(key);
    return it == annotations.end() ? std::string{} : it->second;
}

Result<ImageDocument> parse_image_document(std::span<const std::uint8_t> bytes,
                                           std::string_view declared_media_type) {
    if (bytes.size() > kMaxManifestBytes) {
        TRY(invalid("document is " + std::to_string(bytes.size()) + " bytes, over the " +
                    std::to_string(kMaxManifestBytes) + "-byte limit"));
    }
    if (!json_depth_within(
            std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
            kMaxJsonDepth)) {
        TRY(invalid("JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"));
    }
    Json j = Json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        TRY(invalid("not valid JSON"));
    }
    if (!j.is_object()) {
        TRY(invalid("not a JSON object"));
    }
    auto schema = j.find("schemaVersion");
    if (schema != j.end() && !(schema->is_number_integer() && schema->get<std::int64_t>() == 2)) {
        TRY(invalid("schemaVersion is not 2 (Docker schema 1 manifests are not supported)"));
    }
    std::string own_type;
    TRY_ASSIGN(own_type, get_string(j, "mediaType", false, "manifest"));
    std::string type = own_type.empty() ? std::string(declared_media_type) : own_type;
    bool index = false;
    if (is_index_type(type)) {
        index = true;
    } else if (is_manifest_type(type)) {
        index = false;
    } else {
        // Unknown or absent type (gadget artifacts): decide by shape.
        bool has_manifests = j.contains("manifests");
        bool has_layers = j.contains("layers") || j.contains("config");
        if (has_manifests == has_layers) {
            TRY(invalid("neither an image index nor an image manifest (media type '" +
                        type.substr(0, 200) + "')"));
        }
        index = has_manifests;
    }
    ImageDocument doc;
    if (index) {
        ImageIndex idx;
        idx.media_type = own_type;
        TRY_ASSIGN(idx.artifact_type, get_string(j, "artifactType", false, "index"));
        TRY_ASSIGN(idx.annotations, get_annotations(j, "index"));
        auto m = j.find("manifests");
        if (m == j.end() || !m->is_array()) {
            TRY(invalid("index: \"manifests\" is missing or not an array"));
        }
        if (m->size() > kMaxDescriptors) {
            TRY(invalid("index: more than " + std::to_string(kMaxDescriptors) + " manifests"));
        }
        for (std::size_t i = 0; i < m->size(); ++i) {
            Descriptor d;
            TRY_ASSIGN(d, parse_descriptor((*m)[i], "index.manifests[" + std::to_string(i) + "]"));
            idx.manifests.push_back(std::move(d));
        }
        doc.index = std::move(idx);
        return doc;
    }
    ImageManifest man;
    man.media_type = own_type;
    TRY_ASSIGN(man.artifact_type, get_string(j, "artifactType", false, "manifest"));
    TRY_ASSIGN(man.annotations, get_annotations(j, "manifest"));
    auto config = j.find("config");
    if (config == j.end()) {
        TRY(invalid("manifest: missing \"config\""));
    }
    TRY_ASSIGN(man.config, parse_descriptor(*config, "manifest.config"));
    auto layers = j.find("layers");
    if (layers != j.end() && !layers->is_null()) {
        if (!layers->is_array()) {
            TRY(invalid("manifest: \"layers\" is not an array"));
        }
        if (layers->size() > kMaxDescriptors) {
            TRY(invalid("manifest: more than " + std::to_string(kMaxDescriptors) + " layers"));
        }
        for (std::size_t i = 0; i < layers->size(); ++i) {
            Descriptor d;
            TRY_ASSIGN(
                d, parse_descriptor((*layers)[i], "manifest.layers[" + std::to_string(i) + "]"));
            man.layers.push_back(std::move(d));
        }
    }
    auto subject = j.find("subject");
    if (subject != j.end() && !subject->is_null()) {
        Descriptor s;
        TRY_ASSIGN(s, parse_descriptor(*subject, "manifest.subject"));
        man.subject = std::move(s);
    }
    doc.manifest = std::move(man);
    return doc;
}

bool is_signature_descriptor(const Descriptor& d) {
    static constexpr std::string_view kSignatureTypes[] = {
        "application/vnd.dev.cosign.artifact.sig.v1+json",
        "application/vnd.dev.cosign.simplesigning.v1+json",
        "application/vnd.cncf.notary.signature",
        "application/vnd.in-toto+json",
        "application/vnd.dev.sigstore.bundle.v0.3+json",
    };
    for (auto t : kSignatureTypes) {
        if (d.artifact_type == t || d.media_type == t) {
            return true;
        }
    }
    if (d.annotation("vnd.docker.reference.type") == "attestation-manifest") {
        return true;
    }
    if (d.platform && d.platform->os == "unknown" && d.platform->architecture == "unknown") {
        return true;
    }
    std::string ref = d.annotation("org.opencontainers.image.ref.name");
    return ref.ends_with(".sig") || ref.ends_with(".att") || ref.ends_with(".sbom");
}

bool is_signature_manifest(const ImageManifest& m) {
    if (m.subject) {
        return true;
    }
    Descriptor probe;
    probe.artifact_type = m.artifact_type;
    probe.media_type = m.config.media_type;
    if (is_signature_descriptor(probe)) {
        return true;
    }
    for (const auto& layer : m.layers) {
        if (is_signature_descriptor(layer)) {
            return true;
        }
    }
    return false;
}

GadgetMetadata parse_gadget_config(std::string_view yaml) {
    GadgetMetadata meta;
    std::size_t pos = 0;
    while (pos < yaml.size()) {
        auto end = yaml.find('\n', pos);
        std::string_view line = yaml.substr(pos, end == std::string_view::npos ? end : end - pos);
        pos = end == std::string_view::npos ? yaml.size() : end + 1;
        if (line.empty() || line.front() == ' ' || line.front() == '\t' || line.front() == '#') {
            continue;
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        std::string_view key = line.substr(0, colon);
        std::string value = trim(line.substr(colon + 1));
        if (value.size() > 1024) {
            value.resize(1024);
        }
        if (key == "name") {
            meta.name = value;
        } else if (key == "description") {
            meta.description = value;
        } else if (key == "homepageURL") {
            meta.homepage_url = value;
        } else if (key == "documentationURL") {
            meta.documentation_url = value;
        } else if (key == "sourceURL") {
            meta.source_url = value;
        }
    }
    return meta;
}

} // namespace bpfleet::oci
