#include "oci/image_builder.hpp"

#include "common/sha256.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>
#include <zlib.h>

namespace bpfleet::test {

Bytes read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path.string());
    }
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& path, const Bytes& data) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
}

void write_text(const fs::path& path, const std::string& text) {
    write_bytes(path, to_bytes(text));
}

Bytes to_bytes(const std::string& s) {
    return Bytes(s.begin(), s.end());
}

std::string sha256_hex(const Bytes& data) {
    return Sha256::hex_of(std::span<const std::uint8_t>(data));
}

nlohmann::json BlobRef::descriptor() const {
    return {{"mediaType", media_type}, {"digest", digest}, {"size", size}};
}

LayoutBuilder::LayoutBuilder(fs::path dir) : m_dir(std::move(dir)) {
    fs::create_directories(m_dir / "blobs" / "sha256");
    write_text(m_dir / "oci-layout", R"({"imageLayoutVersion": "1.0.0"})");
}

BlobRef LayoutBuilder::add_blob(const Bytes& data, const std::string& media_type) {
    std::string hex = sha256_hex(data);
    write_bytes(m_dir / "blobs" / "sha256" / hex, data);
    return BlobRef{media_type, "sha256:" + hex, data.size()};
}

BlobRef LayoutBuilder::add_json(const nlohmann::json& doc, const std::string& media_type) {
    return add_blob(to_bytes(doc.dump()), media_type);
}

BlobRef LayoutBuilder::add_gadget_manifest(const GadgetParts& parts) {
    auto config = add_blob(to_bytes(parts.config_yaml), "application/vnd.gadget.config.v1+yaml");
    nlohmann::json layers = nlohmann::json::array();
    if (!parts.ebpf.empty()) {
        layers.push_back(
            add_blob(parts.ebpf, "application/vnd.gadget.ebpf.program.v1+binary").descriptor());
    }
    if (parts.wasm) {
        layers.push_back(add_blob(to_bytes(std::string("\0asm\1\0\0\0", 8)),
                                  "application/vnd.gadget.wasm.program.v1+binary")
                             .descriptor());
    }
    if (parts.btfgen) {
        layers.push_back(
            add_blob(to_bytes("btfgen archive stand-in"), "application/vnd.gadget.btfgen.v1+binary")
                .descriptor());
    }
    // Like gadget images: artifactType, and no mediaType in the manifest.
    nlohmann::json manifest = {
        {"schemaVersion", 2},
        {"artifactType", "application/vnd.gadget.v1+binary"},
        {"config", config.descriptor()},
        {"layers", layers},
        {"annotations", {{"org.opencontainers.image.description", "test gadget"}}}};
    return add_json(manifest, "application/vnd.oci.image.manifest.v1+json");
}

BlobRef LayoutBuilder::add_index(const std::vector<std::pair<BlobRef, std::string>>& manifests) {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& [ref, arch] : manifests) {
        auto d = ref.descriptor();
        d["platform"] = {{"os", "linux"}, {"architecture", arch}};
        entries.push_back(d);
    }
    nlohmann::json index = {{"schemaVersion", 2},
                            {"mediaType", "application/vnd.oci.image.index.v1+json"},
                            {"manifests", entries}};
    return add_json(index, "application/vnd.oci.image.index.v1+json");
}

void LayoutBuilder::add_ref(const BlobRef& ref, const std::string& tag,
                            const nlohmann::json& platform) {
    auto d = ref.descriptor();
    if (!tag.empty()) {
        d["annotations"] = {{"org.opencontainers.image.ref.name", tag}};
    }
    if (!platform.is_null()) {
        d["platform"] = platform;
    }
    m_entries.push_back(d);
}

void LayoutBuilder::write_index_json() {
    nlohmann::json index = {{"schemaVersion", 2},
                            {"mediaType", "application/vnd.oci.image.index.v1+json"},
                            {"manifests", m_entries}};
    write_text(m_dir / "index.json", index.dump());
}

Bytes amd64_object() {
    return read_bytes(fs::path(BPFLEET_OCI_BPF_DIR) / "oci_gadget.bpf.o");
}
Bytes arm64_object() {
    return read_bytes(fs::path(BPFLEET_OCI_BPF_DIR) / "oci_gadget.arm64.bpf.o");
}

void build_standard_layout(const fs::path& dir, StandardImage kind, const std::string& tag) {
    LayoutBuilder b(dir);
    switch (kind) {
    case StandardImage::MultiArch: {
        auto amd = b.add_gadget_manifest(GadgetParts{amd64_object()});
        auto arm = b.add_gadget_manifest(GadgetParts{arm64_object()});
        b.add_ref(b.add_index({{amd, "amd64"}, {arm, "arm64"}}), tag);
        break;
    }
    case StandardImage::SingleArch: {
        auto amd = b.add_gadget_manifest(GadgetParts{amd64_object()});
        b.add_ref(b.add_index({{amd, "amd64"}}), tag);
        break;
    }
    case StandardImage::NoEbpf: {
        GadgetParts p;
        p.wasm = true;
        auto amd = b.add_gadget_manifest(p);
        auto arm = b.add_gadget_manifest(p);
        b.add_ref(b.add_index({{amd, "amd64"}, {arm, "arm64"}}), tag);
        break;
    }
    case StandardImage::WithExtras: {
        GadgetParts amd{amd64_object(), true, true};
        GadgetParts arm{arm64_object(), true, true};
        b.add_ref(b.add_index({{b.add_gadget_manifest(amd), "amd64"},
                               {b.add_gadget_manifest(arm), "arm64"}}),
                  tag);
        break;
    }
    }
    b.write_index_json();
}

namespace {

void octal(char* field, std::size_t width, std::uint64_t value) {
    std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1),
                  static_cast<unsigned long long>(value));
}

std::string tar_header(const TarEntry& e) {
    std::string h(512, '\0');
    if (e.path.size() > 99 || e.link.size() > 99) {
        throw std::runtime_error("test tar writer: path too long: " + e.path);
    }
    std::memcpy(h.data(), e.path.data(), e.path.size());
    bool is_file = e.type == TarEntry::Type::File;
    octal(h.data() + 100, 8, e.type == TarEntry::Type::Dir ? 0755 : 0644);
    octal(h.data() + 108, 8, 0);
    octal(h.data() + 116, 8, 0);
    std::uint64_t size = e.declared_size >= 0 ? static_cast<std::uint64_t>(e.declared_size)
                                              : (is_file ? e.data.size() : 0);
    octal(h.data() + 124, 12, size);
    octal(h.data() + 136, 12, 1700000000);
    char type = '0';
    switch (e.type) {
    case TarEntry::Type::File:
        type = '0';
        break;
    case TarEntry::Type::Dir:
        type = '5';
        break;
    case TarEntry::Type::Symlink:
        type = '2';
        break;
    case TarEntry::Type::Hardlink:
        type = '1';
        break;
    case TarEntry::Type::Fifo:
        type = '6';
        break;
    case TarEntry::Type::CharDevice:
        type = '3';
        break;
    }
    h[156] = type;
    std::memcpy(h.data() + 157, e.link.data(), e.link.size());
    std::memcpy(h.data() + 257,
                "ustar\0"
                "00",
                8);
    std::memset(h.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) {
        sum += c;
    }
    std::snprintf(h.data() + 148, 8, "%06o", sum);
    h[155] = ' ';
    return h;
}

} // namespace

void write_tar(const fs::path& path, const std::vector<TarEntry>& entries, bool gzip) {
    std::string out;
    for (const auto& e : entries) {
        out += tar_header(e);
        if (e.type == TarEntry::Type::File) {
            out.append(reinterpret_cast<const char*>(e.data.data()), e.data.size());
            out.append((512 - e.data.size() % 512) % 512, '\0');
        }
    }
    out.append(1024, '\0');
    fs::create_directories(path.parent_path());
    if (!gzip) {
        write_bytes(path, to_bytes(out));
        return;
    }
    gzFile gz = gzopen(path.c_str(), "wb6");
    if (gz == nullptr) {
        throw std::runtime_error("gzopen " + path.string());
    }
    gzwrite(gz, out.data(), static_cast<unsigned>(out.size()));
    gzclose(gz);
}

std::vector<TarEntry> entries_of_directory(const fs::path& dir) {
    std::vector<TarEntry> entries;
    for (const auto& f : fs::recursive_directory_iterator(dir)) {
        if (f.is_regular_file()) {
            TarEntry e;
            e.path = fs::relative(f.path(), dir).string();
            e.data = read_bytes(f.path());
            entries.push_back(std::move(e));
        }
    }
    return entries;
}

TempDir::TempDir() {
    std::random_device rd;
    m_path = fs::temp_directory_path() /
             ("bpfleet-oci-test-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(m_path);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
}

std::vector<fs::path> files_under(const fs::path& root) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file() || it->is_symlink()) {
            out.push_back(it->path());
        }
    }
    return out;
}

} // namespace bpfleet::test
