#include "oci/image_source.hpp"

#include "common/fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

namespace bpfleet::oci {
namespace {

namespace fs = std::filesystem;

Result<void> check_size(const Descriptor& d, std::size_t got, const std::string& what) {
    if (d.size != 0 && d.size != got) {
        return make_error("DIGEST_MISMATCH",
                          "size " + std::to_string(got) + " differs from the " +
                              std::to_string(d.size) + " its descriptor declares",
                          0, what);
    }
    return {};
}

} // namespace

Result<std::optional<Bytes>> DirTree::read(const std::string& rel, std::uint64_t max) {
    // Every component below the root is opened without following a link: a
    // layout whose blob is a link (blobs/sha256/X -> /etc/shadow) would have
    // bpfleet read, hash and name the size of a file the layout's author
    // chose. The root itself is what the user named and is followed.
    const fs::path shown = m_root / rel;
    Fd dir(::open(m_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return std::optional<Bytes>{};
        }
        return make_error("ARTIFACT_INVALID", std::string("cannot open: ") + std::strerror(errno),
                          errno, m_root.string());
    }
    std::size_t start = 0;
    Fd file;
    for (;;) {
        const std::size_t slash = rel.find('/', start);
        const std::string part =
            rel.substr(start, slash == std::string::npos ? slash : slash - start);
        if (part.empty() || part == "." || part == "..") {
            return std::optional<Bytes>{};
        }
        const bool last = slash == std::string::npos;
        // O_NONBLOCK: a FIFO planted as a blob must not block the open.
        Fd next(::openat(dir.get(), part.c_str(),
                         O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? O_NONBLOCK : O_DIRECTORY)));
        if (!next) {
            if (errno == ELOOP || (errno == ENOTDIR && !last)) {
                struct stat link {};
                if (::fstatat(dir.get(), part.c_str(), &link, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISLNK(link.st_mode)) {
                    return make_error("ARTIFACT_INVALID",
                                      "a symbolic link: not followed (the files of an OCI layout "
                                      "must be regular files inside it)",
                                      ELOOP, shown.string());
                }
            }
            if (errno == ENOENT || errno == ENOTDIR) {
                return std::optional<Bytes>{};
            }
            return make_error("ARTIFACT_INVALID",
                              std::string("cannot open: ") + std::strerror(errno), errno,
                              shown.string());
        }
        if (last) {
            file = std::move(next);
            break;
        }
        dir = std::move(next);
        start = slash + 1;
    }
    struct stat st {};
    if (::fstat(file.get(), &st) != 0) {
        return make_error("ARTIFACT_INVALID", std::string("cannot stat: ") + std::strerror(errno),
                          errno, shown.string());
    }
    if (!S_ISREG(st.st_mode)) {
        return std::optional<Bytes>{};
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > max) {
        return make_error("LIMIT_EXCEEDED",
                          std::to_string(size) + " bytes, over the " + std::to_string(max) +
                              "-byte limit",
                          0, shown.string());
    }
    Bytes data(size);
    std::size_t done = 0;
    while (done < size) {
        ssize_t n = ::read(file.get(), data.data() + done, size - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return make_error("ARTIFACT_INVALID", "short read", n < 0 ? errno : 0, shown.string());
        }
        done += static_cast<std::size_t>(n);
    }
    return std::optional<Bytes>(std::move(data));
}

Result<std::optional<Bytes>> ArchiveTree::read(const std::string& rel, std::uint64_t max) {
    const Bytes* data = m_contents.find(rel);
    if (data == nullptr) {
        return std::optional<Bytes>{};
    }
    if (data->size() > max) {
        return make_error("LIMIT_EXCEEDED", "entry over the " + std::to_string(max) + "-byte limit",
                          0, describe() + ", entry '" + rel + "'");
    }
    return std::optional<Bytes>(*data);
}

Result<Descriptor> LayoutSource::root() {
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
    bool all_platforms = std::all_of(candidates.begin(), candidates.end(),
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

Result<Bytes> LayoutSource::fetch(const Descriptor& d, bool, std::uint64_t max,
                                  const std::string& what) {
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
        return make_error("ARTIFACT_NOT_FOUND", "blob " + d.digest.str() + " is missing", 0, where);
    }
    TRY(check_size(d, data->size(), where));
    TRY(verify_digest(*data, d.digest, where));
    return std::move(*data);
}

Result<Descriptor> RegistrySource::root() {
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

Result<Bytes> RegistrySource::fetch(const Descriptor& d, bool manifest, std::uint64_t max,
                                    const std::string& what) {
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
                              " is not in the cache (offline): run `bpfleet pull " + m_ref.str() +
                              "` while online first",
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

Result<fs::path> RegistrySource::ensure_cached(const Descriptor& d, std::uint64_t max,
                                               const std::string& what) {
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
        return make_error("CACHE_MISS", "blob " + d.digest.str() + " is not in the cache (offline)",
                          0, where);
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

Result<RegistryClient*> RegistrySource::get_client() {
    if (!m_client) {
        RegistryOptions ro = m_options.registry;
        if (!ro.credentials) {
            TRY_ASSIGN(ro.credentials, find_credentials(m_ref.registry, m_options.credentials));
            if (!ro.credentials) {
                ro.credentials_searched = describe_credential_sources(m_options.credentials);
            }
        }
        auto c = RegistryClient::make(m_ref.registry, m_ref.is_loopback(), std::move(ro));
        if (!c) {
            return tl::unexpected(c.error());
        }
        m_client.emplace(std::move(*c));
    }
    return &*m_client;
}

} // namespace bpfleet::oci
