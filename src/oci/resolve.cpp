#include "oci/resolve.hpp"

#include "common/arch.hpp"
#include "oci/cache.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

namespace bpfleet::oci {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t kMaxConfigBytes = 1024 * 1024;
constexpr int kMaxIndexDepth = 3;

std::string short_digest(const Digest& d) {
    return d.str().substr(0, 19);
}

Error with_context(Error e, const std::string& context) {
    if (e.context.empty()) {
        e.context = context;
    }
    return e;
}

// A tree of files: a layout directory or an archive read in memory.
class FileTree {
public:
    virtual ~FileTree() = default;
    virtual Result<std::optional<Bytes>> read(const std::string& rel, std::uint64_t max) = 0;
    [[nodiscard]] virtual std::string describe() const = 0;
};

class DirTree final : public FileTree {
public:
    explicit DirTree(fs::path root) : m_root(std::move(root)) {}
    Result<std::optional<Bytes>> read(const std::string& rel, std::uint64_t max) override {
        auto path = m_root / rel;
        std::error_code ec;
        if (!fs::is_regular_file(path, ec)) {
            return std::optional<Bytes>{};
        }
        auto size = fs::file_size(path, ec);
        if (ec) {
            return make_error("ARTIFACT_INVALID", "cannot stat: " + ec.message(), ec.value(),
                              path.string());
        }
        if (size > max) {
            return make_error("LIMIT_EXCEEDED",
                              std::to_string(size) + " bytes, over the " + std::to_string(max) +
                                  "-byte limit",
                              0, path.string());
        }
        std::ifstream in(path, std::ios::binary);
        Bytes data(size);
        in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(size));
        if (static_cast<std::uint64_t>(in.gcount()) != size) {
            return make_error("ARTIFACT_INVALID", "short read", 0, path.string());
        }
        return std::optional<Bytes>(std::move(data));
    }
    [[nodiscard]] std::string describe() const override { return "layout " + m_root.string(); }

private:
    fs::path m_root;
};

class ArchiveTree final : public FileTree {
public:
    ArchiveTree(const ArchiveContents& contents, std::string name)
        : m_contents(contents), m_name(std::move(name)) {}
    Result<std::optional<Bytes>> read(const std::string& rel, std::uint64_t max) override {
        const Bytes* data = m_contents.find(rel);
        if (data == nullptr) {
            return std::optional<Bytes>{};
        }
        if (data->size() > max) {
            return make_error("LIMIT_EXCEEDED",
                              "entry over the " + std::to_string(max) + "-byte limit", 0,
                              describe() + ", entry '" + rel + "'");
        }
        return std::optional<Bytes>(*data);
    }
    [[nodiscard]] std::string describe() const override { return "archive " + m_name; }

private:
    const ArchiveContents& m_contents;
    std::string m_name;
};

// Where manifests and blobs come from: a layout or a registry (+ cache).
class ImageSource {
public:
    virtual ~ImageSource() = default;
    virtual Result<Descriptor> root() = 0;
    // Verified bytes of a manifest or blob.
    virtual Result<Bytes> fetch(const Descriptor& d, bool manifest, std::uint64_t max,
                                const std::string& what) = 0;
    [[nodiscard]] virtual fs::path cached_path(const Digest&) const { return {}; }
    // Makes sure a blob is in the cache without reading it into memory (large
    // side blobs like btfgen); empty path when the source has no cache.
    virtual Result<fs::path> ensure_cached(const Descriptor&, std::uint64_t, const std::string&) {
        return fs::path{};
    }
};

Result<void> check_size(const Descriptor& d, std::size_t got, const std::string& what) {
    if (d.size != 0 && d.size != got) {
        return make_error("DIGEST_MISMATCH",
                          "size " + std::to_string(got) + " differs from the " +
                              std::to_string(d.size) + " its descriptor declares",
                          0, what);
    }
    return {};
}

class LayoutSource final : public ImageSource {
public:
    LayoutSource(FileTree& tree, std::string tag) : m_tree(tree), m_tag(std::move(tag)) {}

    Result<Descriptor> root() override {
        std::optional<Bytes> layout;
        TRY_ASSIGN(layout, m_tree.read("oci-layout", 64 * 1024));
        if (!layout) {
            return make_error("ARTIFACT_INVALID", "not an OCI image layout: no oci-layout file", 0,
                              m_tree.describe());
        }
        auto lj = nlohmann::json::parse(layout->begin(), layout->end(), nullptr, false);
        if (lj.is_discarded() || !lj.is_object() || !lj.contains("imageLayoutVersion")) {
            return make_error("ARTIFACT_INVALID", "oci-layout has no imageLayoutVersion", 0,
                              m_tree.describe());
        }
        std::optional<Bytes> index_bytes;
        TRY_ASSIGN(index_bytes, m_tree.read("index.json", kMaxManifestBytes));
        if (!index_bytes) {
            return make_error("ARTIFACT_INVALID", "not an OCI image layout: no index.json", 0,
                              m_tree.describe());
        }
        auto doc = parse_image_document(*index_bytes, media_type::kOciIndex);
        if (!doc) {
            return tl::unexpected(with_context(doc.error(), m_tree.describe() + ", index.json"));
        }
        if (!doc->index) {
            return make_error("MANIFEST_INVALID", "index.json is not an image index", 0,
                              m_tree.describe());
        }
        std::vector<const Descriptor*> candidates;
        std::vector<std::string> names;
        for (const auto& m : doc->index->manifests) {
            if (is_signature_descriptor(m)) {
                continue;
            }
            candidates.push_back(&m);
            std::string name = m.annotation("org.opencontainers.image.ref.name");
            if (!name.empty()) {
                names.push_back(name);
            }
        }
        if (!m_tag.empty()) {
            for (const auto* m : candidates) {
                for (const char* key :
                     {"org.opencontainers.image.ref.name", "io.containerd.image.name"}) {
                    std::string name = m->annotation(key);
                    if (!name.empty() && (name == m_tag || name.ends_with(":" + m_tag))) {
                        return *m;
                    }
                }
            }
            std::string list;
            for (const auto& n : names) {
                list += (list.empty() ? "" : ", ") + n;
            }
            return make_error("ARTIFACT_NOT_FOUND",
                              "no image tagged '" + m_tag +
                                  "' (tags: " + (list.empty() ? "none" : list) + ")",
                              0, m_tree.describe());
        }
        if (candidates.size() == 1) {
            return *candidates.front();
        }
        if (candidates.empty()) {
            return make_error("NO_PROGRAM", "the layout's index.json lists no image", 0,
                              m_tree.describe());
        }
        bool all_platforms =
            std::all_of(candidates.begin(), candidates.end(),
                        [](const Descriptor* d) { return d->platform.has_value(); });
        if (all_platforms && names.empty()) {
            // index.json is itself the multi-architecture index.
            Descriptor self;
            self.media_type = std::string(media_type::kOciIndex);
            self.digest = sha256_digest(*index_bytes);
            self.size = index_bytes->size();
            m_self = std::move(*index_bytes);
            m_self_digest = self.digest;
            return self;
        }
        std::string list;
        for (const auto& n : names) {
            list += (list.empty() ? "" : ", ") + n;
        }
        return make_error("ARTIFACT_INVALID",
                          "the layout holds " + std::to_string(candidates.size()) +
                              " images; name one with oci:DIR:TAG (tags: " + list + ")",
                          0, m_tree.describe());
    }

    Result<Bytes> fetch(const Descriptor& d, bool, std::uint64_t max,
                        const std::string& what) override {
        if (m_self && d.digest == m_self_digest) {
            return *m_self;
        }
        std::string where = m_tree.describe() + ", " + what;
        if (d.size > max) {
            return make_error("LIMIT_EXCEEDED",
                              "declared size " + std::to_string(d.size) + " is over the " +
                                  std::to_string(max) + "-byte limit",
                              0, where);
        }
        std::optional<Bytes> data;
        auto r = m_tree.read("blobs/" + d.digest.algorithm + "/" + d.digest.hex, max);
        if (!r) {
            return tl::unexpected(with_context(r.error(), where));
        }
        data = std::move(*r);
        if (!data) {
            return make_error("ARTIFACT_NOT_FOUND", "blob " + d.digest.str() + " is missing", 0,
                              where);
        }
        TRY(check_size(d, data->size(), where));
        TRY(verify_digest(*data, d.digest, where));
        return std::move(*data);
    }

private:
    FileTree& m_tree;
    std::string m_tag;
    std::optional<Bytes> m_self;
    Digest m_self_digest;
};

class RegistrySource final : public ImageSource {
public:
    RegistrySource(RegistryReference ref, const ResolveOptions& options, BlobCache cache)
        : m_ref(std::move(ref)), m_options(options), m_cache(std::move(cache)) {}

    Result<Descriptor> root() override {
        Descriptor d;
        std::optional<Digest> digest;
        if (!m_ref.digest.empty()) {
            TRY_ASSIGN(digest, parse_digest(m_ref.digest));
        }
        if (m_options.offline && !digest) {
            TRY_ASSIGN(digest, m_cache.get_tag(m_ref));
            if (!digest) {
                return make_error("CACHE_MISS",
                                  "not in the cache (offline): run `bpfleet pull " + m_ref.str() +
                                      "` while online first",
                                  0, "cache " + m_cache.root().string());
            }
        }
        if (digest) {
            d.digest = *digest;
            if (m_options.offline || m_cache.has(*digest)) {
                return d; // fetch() reads it from the cache
            }
        }
        RegistryClient* client = nullptr;
        TRY_ASSIGN(client, get_client());
        FetchedManifest m;
        TRY_ASSIGN(m, client->get_manifest(m_ref.repository, m_ref.reference(), kMaxManifestBytes));
        TRY(m_cache.put(m.digest, m.bytes, "manifest " + m.digest.str()));
        TRY(m_cache.put_tag(m_ref, m.digest));
        d.digest = m.digest;
        d.media_type = m.media_type;
        d.size = m.bytes.size();
        return d;
    }

    Result<Bytes> fetch(const Descriptor& d, bool manifest, std::uint64_t max,
                        const std::string& what) override {
        std::string where = m_ref.registry + "/" + m_ref.repository + ", " + what;
        if (d.size > max) {
            return make_error("LIMIT_EXCEEDED",
                              "declared size " + std::to_string(d.size) + " is over the " +
                                  std::to_string(max) + "-byte limit",
                              0, where);
        }
        std::optional<Bytes> cached;
        TRY_ASSIGN(cached, m_cache.read(d.digest, max));
        if (cached) {
            TRY(check_size(d, cached->size(), where));
            return std::move(*cached);
        }
        if (m_options.offline) {
            return make_error("CACHE_MISS",
                              "blob " + d.digest.str() +
                                  " is not in the cache (offline): run `bpfleet pull " +
                                  m_ref.str() + "` while online first",
                              0, where);
        }
        RegistryClient* client = nullptr;
        TRY_ASSIGN(client, get_client());
        if (manifest) {
            FetchedManifest m;
            TRY_ASSIGN(m, client->get_manifest(m_ref.repository, d.digest.str(), max));
            TRY(check_size(d, m.bytes.size(), where));
            TRY(m_cache.put(d.digest, m.bytes, what));
            return std::move(m.bytes);
        }
        auto writer = m_cache.begin(
            d.digest, max, d.size ? std::optional<std::uint64_t>(d.size) : std::nullopt, where);
        if (!writer) {
            return tl::unexpected(writer.error());
        }
        TRY(client->get_blob(m_ref.repository, d.digest, *writer));
        TRY(writer->commit());
        std::optional<Bytes> stored;
        TRY_ASSIGN(stored, m_cache.read(d.digest, max));
        if (!stored) {
            return make_error("CACHE_ERROR", "blob vanished from the cache", 0, where);
        }
        return std::move(*stored);
    }

    [[nodiscard]] fs::path cached_path(const Digest& d) const override {
        return m_cache.blob_path(d);
    }

    Result<fs::path> ensure_cached(const Descriptor& d, std::uint64_t max,
                                   const std::string& what) override {
        std::string where = m_ref.registry + "/" + m_ref.repository + ", " + what;
        auto path = m_cache.blob_path(d.digest);
        std::error_code ec;
        // Blobs land in the cache only after their digest was checked; a
        // size check is enough for a side blob that is not run.
        if (fs::is_regular_file(path, ec) && (d.size == 0 || fs::file_size(path, ec) == d.size)) {
            return path;
        }
        if (d.size > max) {
            return make_error("LIMIT_EXCEEDED",
                              "declared size " + std::to_string(d.size) + " is over the " +
                                  std::to_string(max) + "-byte limit",
                              0, where);
        }
        if (m_options.offline) {
            return make_error("CACHE_MISS",
                              "blob " + d.digest.str() + " is not in the cache (offline)", 0,
                              where);
        }
        RegistryClient* client = nullptr;
        TRY_ASSIGN(client, get_client());
        auto writer = m_cache.begin(
            d.digest, max, d.size ? std::optional<std::uint64_t>(d.size) : std::nullopt, where);
        if (!writer) {
            return tl::unexpected(writer.error());
        }
        TRY(client->get_blob(m_ref.repository, d.digest, *writer));
        return writer->commit();
    }

    [[nodiscard]] RegistryStats stats() const {
        return m_client ? m_client->stats() : RegistryStats{};
    }
    [[nodiscard]] bool used_network() const { return m_client.has_value(); }

private:
    Result<RegistryClient*> get_client() {
        if (!m_client) {
            RegistryOptions ro = m_options.registry;
            if (!ro.credentials) {
                TRY_ASSIGN(ro.credentials, find_credentials(m_ref.registry, m_options.credentials));
            }
            auto c = RegistryClient::make(m_ref.registry, m_ref.is_loopback(), std::move(ro));
            if (!c) {
                return tl::unexpected(c.error());
            }
            m_client.emplace(std::move(*c));
        }
        return &*m_client;
    }

    RegistryReference m_ref;
    const ResolveOptions& m_options;
    BlobCache m_cache;
    std::optional<RegistryClient> m_client;
};

std::string ascii_safe(std::string_view s, std::size_t max = 200) {
    std::string out;
    for (char c : s.substr(0, max)) {
        out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return out;
}

// Walks an index / manifest tree and collects the objects.
class Walker {
public:
    Walker(ImageSource& source, const ResolveOptions& options, ResolvedArtifact& out,
           std::vector<std::string> wanted, std::string default_name)
        : m_src(source), m_opt(options), m_out(out), m_wanted(std::move(wanted)),
          m_default_name(std::move(default_name)) {}

    Result<void> walk(const Descriptor& d, int depth, const std::optional<Platform>& platform) {
        if (depth > kMaxIndexDepth) {
            return make_error("MANIFEST_INVALID",
                              "indexes nested deeper than " + std::to_string(kMaxIndexDepth) +
                                  " levels",
                              0, "manifest " + d.digest.str());
        }
        if (!m_path.insert(d.digest.str()).second) {
            return make_error("MANIFEST_INVALID",
                              "the index references itself (a cycle through " + d.digest.str() +
                                  ")",
                              0, "manifest " + d.digest.str());
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
                    m_out.notes.push_back("skipped signature/attestation manifest " +
                                          m.digest.str());
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

private:
    bool wants(const std::string& arch) const {
        return m_wanted.empty() || arch.empty() ||
               std::find(m_wanted.begin(), m_wanted.end(), arch) != m_wanted.end();
    }
    void note_arch(const std::string& arch) {
        std::string a = ascii_safe(arch, 40);
        if (std::find(m_out.available_arches.begin(), m_out.available_arches.end(), a) ==
            m_out.available_arches.end()) {
            m_out.available_arches.push_back(a);
        }
    }

    Result<void> process_manifest(const Descriptor& d, const ImageManifest& man,
                                  const std::optional<Platform>& platform) {
        std::string arch = platform ? ascii_safe(platform->architecture, 40) : "";
        std::string variant = platform ? ascii_safe(platform->variant, 40) : "";
        const auto& cfg = man.config;
        bool gadget = man.artifact_type == media_type::kGadgetArtifact ||
                      cfg.media_type == media_type::kGadgetConfig;
        if (cfg.media_type == media_type::kGadgetConfig && cfg.size <= kMaxConfigBytes) {
            Bytes yaml;
            TRY_ASSIGN(yaml,
                       m_src.fetch(cfg, false, kMaxConfigBytes, "config " + cfg.digest.str()));
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
            TRY_ASSIGN(json,
                       m_src.fetch(cfg, false, kMaxConfigBytes, "config " + cfg.digest.str()));
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

    Result<void> add_from_blob(const Descriptor& manifest, const Descriptor& layer,
                               const std::string& arch, const std::string& variant, Bytes blob) {
        if (is_bpf_elf(blob)) {
            add_object(manifest, layer, arch, variant, object_name(layer), std::move(blob));
            return {};
        }
        if (!looks_like_archive(blob)) {
            return {};
        }
        auto contents =
            read_archive_memory(blob, "layer " + layer.digest.str(), m_opt.archive_limits);
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

    std::string object_name(const Descriptor& layer) const {
        std::string title = layer.annotation("org.opencontainers.image.title");
        if (!title.empty() && title.find('/') == std::string::npos && title.size() < 200) {
            return ascii_safe(title);
        }
        if (m_out.gadget && !m_out.gadget->name.empty()) {
            return ascii_safe(m_out.gadget->name, 100) + ".bpf.o";
        }
        return m_default_name;
    }

    void add_object(const Descriptor& manifest, const Descriptor& layer, const std::string& arch,
                    const std::string& variant, std::string name, Bytes bytes) {
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

    ImageSource& m_src;
    const ResolveOptions& m_opt;
    ResolvedArtifact& m_out;
    std::vector<std::string> m_wanted;
    std::string m_default_name;
    std::set<std::string> m_path;
};

Result<void> finish(ResolvedArtifact& out, const std::vector<std::string>& wanted) {
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
    out.spec = spec.original;
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
        Walker walker(source, options, out, wanted, "program.bpf.o");
        TRY(walker.walk(root, 0, root.platform));
        TRY(finish(out, wanted));
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
            Walker walker(source, options, out, wanted, "program.bpf.o");
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
        TRY(finish(out, wanted));
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
        Walker walker(source, options, out, wanted, repo_base + ".bpf.o");
        auto walked = walker.walk(*root, 0, std::nullopt);
        out.stats = source.stats();
        out.from_cache_only = !source.used_network();
        TRY(walked);
        TRY(finish(out, wanted));
        return out;
    }
    }
    return make_error("ARTIFACT_INVALID", "unknown artifact kind");
}

} // namespace bpfleet::oci
