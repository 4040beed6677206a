// Where an image's manifests and blobs come from, for the resolver
// (resolve.cpp): a FileTree (a layout directory, or an archive read into
// memory) seen as an OCI image layout, or a registry through the blob cache.
// Every fetch is checked against its descriptor's size and digest before the
// bytes are returned. Not thread-safe; one source per resolve.
#pragma once

#include "common/result.hpp"
#include "oci/archive.hpp"
#include "oci/cache.hpp"
#include "oci/manifest.hpp"
#include "oci/registry_client.hpp"
#include "oci/resolve.hpp"
#include "oci/resolve_detail.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace bpfleet::oci {

// A tree of files: a layout directory or an archive read in memory.
class FileTree {
public:
    virtual ~FileTree() = default;
    // The file at `rel`, nullopt when there is none; LIMIT_EXCEEDED over `max`.
    virtual Result<std::optional<Bytes>> read(const std::string& rel, std::uint64_t max) = 0;
    [[nodiscard]] virtual std::string describe() const = 0;
};

class DirTree final : public FileTree {
public:
    explicit DirTree(std::filesystem::path root) : m_root(std::move(root)) {}
    Result<std::optional<Bytes>> read(const std::string& rel, std::uint64_t max) override;
    [[nodiscard]] std::string describe() const override { return "layout " + m_root.string(); }

private:
    std::filesystem::path m_root;
};

// Reads from `contents`, which must outlive the tree.
class ArchiveTree final : public FileTree {
public:
    ArchiveTree(const ArchiveContents& contents, std::string name)
        : m_contents(contents), m_name(std::move(name)) {}
    Result<std::optional<Bytes>> read(const std::string& rel, std::uint64_t max) override;
    [[nodiscard]] std::string describe() const override { return "archive " + m_name; }

private:
    const ArchiveContents& m_contents;
    std::string m_name;
};

class ImageSource {
public:
    virtual ~ImageSource() = default;
    // The descriptor of the top document (an index or a manifest).
    virtual Result<Descriptor> root() = 0;
    // Verified bytes of a manifest or blob.
    virtual Result<Bytes> fetch(const Descriptor& d, bool manifest, std::uint64_t max,
                                const std::string& what) = 0;
    // Makes sure a blob is in the cache without reading it into memory (large
    // side blobs like btfgen); empty path when the source has no cache.
    virtual Result<std::filesystem::path> ensure_cached(const Descriptor&, std::uint64_t,
                                                        const std::string&) {
        return std::filesystem::path{};
    }
};

// An OCI image layout in a FileTree (which must outlive the source); `tag`
// picks one image from index.json, empty = the only one.
class LayoutSource final : public ImageSource {
public:
    LayoutSource(FileTree& tree, std::string tag) : m_tree(tree), m_tag(std::move(tag)) {}
    Result<Descriptor> root() override;
    Result<Bytes> fetch(const Descriptor& d, bool manifest, std::uint64_t max,
                        const std::string& what) override;

private:
    FileTree& m_tree;
    std::string m_tag;
    std::optional<Bytes> m_self; // index.json, when it is itself the image index
    Digest m_self_digest;
};

// A registry repository; every manifest and blob goes through `cache`, and
// with options.offline nothing else is used. `options` must outlive it.
class RegistrySource final : public ImageSource {
public:
    RegistrySource(RegistryReference ref, const ResolveOptions& options, BlobCache cache)
        : m_ref(std::move(ref)), m_options(options), m_cache(std::move(cache)) {}
    Result<Descriptor> root() override;
    Result<Bytes> fetch(const Descriptor& d, bool manifest, std::uint64_t max,
                        const std::string& what) override;
    Result<std::filesystem::path> ensure_cached(const Descriptor& d, std::uint64_t max,
                                                const std::string& what) override;

    [[nodiscard]] RegistryStats stats() const {
        return m_client ? m_client->stats() : RegistryStats{};
    }
    [[nodiscard]] bool used_network() const { return m_client.has_value(); }

private:
    Result<RegistryClient*> get_client();

    RegistryReference m_ref;
    const ResolveOptions& m_options;
    BlobCache m_cache;
    std::optional<RegistryClient> m_client;
};

} // namespace bpfleet::oci
