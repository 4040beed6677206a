// Test helpers that build OCI images the way gadget tooling does (manifests
// with artifactType and no mediaType, gadget config / ebpf / wasm / btfgen
// layers, one manifest per architecture in an index) from the BPF objects the
// build compiled, plus a tar writer for archives (including hostile ones).
// Nothing here is shipped; nothing binary is committed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bpfleet::test {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

Bytes read_bytes(const fs::path& path);
void write_bytes(const fs::path& path, const Bytes& data);
void write_text(const fs::path& path, const std::string& text);
Bytes to_bytes(const std::string& s);
std::string sha256_hex(const Bytes& data);

struct BlobRef {
    std::string media_type;
    std::string digest;
    std::uint64_t size = 0;
    [[nodiscard]] nlohmann::json descriptor() const;
};

struct GadgetParts {
    Bytes ebpf;          // empty: no eBPF layer
    bool wasm = false;   // add a wasm layer
    bool btfgen = false; // add a btfgen layer
    std::string config_yaml =
        "name: trace_test\ndescription: a test gadget\nsourceURL: https://example.com/trace_test\n";
};

class LayoutBuilder {
public:
    explicit LayoutBuilder(fs::path dir);
    BlobRef add_blob(const Bytes& data, const std::string& media_type);
    BlobRef add_json(const nlohmann::json& doc, const std::string& media_type);
    BlobRef add_gadget_manifest(const GadgetParts& parts);
    // An index of (manifest, architecture) pairs.
    BlobRef add_index(const std::vector<std::pair<BlobRef, std::string>>& manifests);
    // Adds an entry to the layout's index.json (with a ref.name when tag is set).
    void add_ref(const BlobRef& ref, const std::string& tag,
                 const nlohmann::json& platform = nullptr);
    void write_index_json();
    [[nodiscard]] const fs::path& dir() const { return m_dir; }

private:
    fs::path m_dir;
    nlohmann::json m_entries = nlohmann::json::array();
};

// The compiled test objects (tests/integration/bpf/oci_gadget.bpf.c).
Bytes amd64_object();
Bytes arm64_object();

enum class StandardImage { MultiArch, SingleArch, NoEbpf, WithExtras };
// Builds one of the images of the test list into `dir`, tagged `tag`.
void build_standard_layout(const fs::path& dir, StandardImage kind,
                           const std::string& tag = "latest");

struct TarEntry {
    enum class Type { File, Dir, Symlink, Hardlink, Fifo, CharDevice };
    TarEntry() = default;
    TarEntry(std::string p, Bytes d = {}, Type t = Type::File, std::string l = {},
             std::int64_t declared = -1)
        : path(std::move(p)), data(std::move(d)), type(t), link(std::move(l)),
          declared_size(declared) {}
    std::string path;
    Bytes data;
    Type type = Type::File;
    std::string link;                // symlink / hardlink target
    std::int64_t declared_size = -1; // override the header's size field
};
void write_tar(const fs::path& path, const std::vector<TarEntry>& entries, bool gzip);
// Every file under `dir` (relative paths), as tar entries.
std::vector<TarEntry> entries_of_directory(const fs::path& dir);

// A fresh directory under the build's temp area, removed by the destructor.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const fs::path& path() const { return m_path; }

private:
    fs::path m_path;
};

// Every regular file under `root` (to check nothing was written elsewhere).
std::vector<fs::path> files_under(const fs::path& root);

} // namespace bpfleet::test
