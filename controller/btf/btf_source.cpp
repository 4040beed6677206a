#include "btf/btf_source.hpp"

#include "bpf/external_btf.hpp"
#include "common/arch.hpp"
#include "common/sha256.hpp"
#include "oci/archive.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace bpfleet::btf {
namespace {

namespace fs = std::filesystem;

// A folder walk stops here: a btfgen layer holds a few thousand files.
constexpr std::size_t kMaxWalkEntries = 200000;
constexpr int kMaxWalkDepth = 8;

// The names an architecture's folder goes by (BTFHub: x86_64, arm64).
std::vector<std::string> arch_aliases(const std::string& arch) {
    if (arch == "x86_64") {
        return {"x86_64", "amd64"};
    }
    if (arch == "aarch64") {
        return {"arm64", "aarch64"};
    }
    if (arch == "armv7l") {
        return {"arm", "armhf", "armv7l", "armv7"};
    }
    return {arch};
}

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<std::vector<std::uint8_t>> read_whole(const fs::path& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) {
        return make_error("external_btf", path.string() + ": " + ec.message());
    }
    if (size > bpf::kMaxExternalBtfBytes) {
        return make_error("external_btf", path.string() + ": larger than " +
                                              std::to_string(bpf::kMaxExternalBtfBytes) +
                                              " bytes, not a kernel's BTF");
    }
    std::vector<std::uint8_t> bytes(size);
    std::ifstream in(path, std::ios::binary);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!in) {
        return make_error("external_btf", path.string() + ": cannot be read");
    }
    return bytes;
}

// A BTFHub archive holds one <uname -r>.btf; its size is bounded as the
// file's is, whatever the archive declares.
Result<BtfFile> read_archive(const fs::path& path) {
    oci::ArchiveLimits limits;
    limits.max_entry_bytes = bpf::kMaxExternalBtfBytes;
    limits.max_total_bytes = bpf::kMaxExternalBtfBytes;
    limits.max_entries = 16;
    auto read = oci::read_archive_file(path.string(), limits);
    if (!read) {
        return make_error(read.error().code, path.string() + ": " + read.error().message);
    }
    const auto& contents = *read;
    const std::pair<const std::string, std::vector<std::uint8_t>>* found = nullptr;
    for (const auto& entry : contents.files) {
        if (ends_with(entry.first, ".btf")) {
            if (found) {
                return make_error("external_btf", path.string() +
                                                      ": more than one .btf file in the archive (" +
                                                      found->first + ", " + entry.first + ")");
            }
            found = &entry;
        }
    }
    if (!found) {
        return make_error("external_btf", path.string() + ": no .btf file in the archive");
    }
    BtfFile f;
    f.name = path.string() + ":" + found->first;
    f.bytes = std::make_shared<const std::vector<std::uint8_t>>(found->second);
    return f;
}

Result<BtfFile> read_btf(const fs::path& path) {
    if (ends_with(path.filename().string(), ".tar.xz") ||
        ends_with(path.filename().string(), ".tar")) {
        return read_archive(path);
    }
    TRY_ASSIGN(auto bytes, read_whole(path));
    BtfFile f;
    f.name = path.string();
    f.bytes = std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes));
    return f;
}

// <release>.btf or <release>.btf.tar.xz in `dir`, if there.
std::optional<fs::path> file_for(const fs::path& dir, const std::string& release) {
    for (const char* suffix : {".btf", ".btf.tar.xz"}) {
        const fs::path p = dir / (release + suffix);
        std::error_code ec;
        if (fs::is_regular_file(p, ec)) {
            return p;
        }
    }
    return std::nullopt;
}

// Any folder: files named for the release, preferring one under a folder
// named for the architecture; one under another architecture's folder is
// never taken.
Result<std::optional<fs::path>> search(const fs::path& root, const std::string& release,
                                       const std::string& arch) {
    const auto ours = arch_aliases(arch);
    std::vector<std::string> others;
    for (const char* a : {"x86_64", "aarch64", "armv7l"}) {
        if (a != arch) {
            for (auto& alias : arch_aliases(a)) {
                others.push_back(alias);
            }
        }
    }
    std::optional<fs::path> neutral;
    std::size_t seen = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::none, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (++seen > kMaxWalkEntries) {
            return make_error("btf_not_found", root.string() + ": more than " +
                                                   std::to_string(kMaxWalkEntries) +
                                                   " entries; give the file or a BTFHub tree");
        }
        if (it.depth() >= kMaxWalkDepth) {
            it.disable_recursion_pending();
        }
        const std::string name = it->path().filename().string();
        if (name != release + ".btf" && name != release + ".btf.tar.xz") {
            continue;
        }
        std::error_code file_ec;
        if (!it->is_regular_file(file_ec)) {
            continue;
        }
        bool mine = false;
        bool foreign = false;
        for (const auto& part : fs::relative(it->path(), root)) {
            const std::string p = part.string();
            mine = mine || std::find(ours.begin(), ours.end(), p) != ours.end();
            foreign = foreign || std::find(others.begin(), others.end(), p) != others.end();
        }
        if (mine) {
            return std::optional<fs::path>(it->path());
        }
        if (!foreign && !neutral) {
            neutral = it->path();
        }
    }
    if (ec) {
        return make_error("btf_not_found", root.string() + ": " + ec.message());
    }
    return neutral;
}

} // namespace

Result<BtfFile> pick_btf(const std::string& source, const HostFacts& facts) {
    const std::string release = facts.kernel.release.value_or("");
    const std::string arch = agent_arch_name(facts.arch.value_or(""));
    std::error_code ec;
    const fs::path root(source);
    if (!fs::exists(root, ec)) {
        return make_error("btf_not_found", source + ": no such file or folder");
    }
    fs::path picked;
    if (fs::is_directory(root, ec)) {
        if (release.empty()) {
            return make_error("btf_not_found", "the host did not say its kernel release");
        }
        std::optional<fs::path> found;
        std::string tried;
        if (facts.os.id && facts.os.version_id) {
            for (const auto& a : arch_aliases(arch)) {
                const fs::path dir = root / *facts.os.id / *facts.os.version_id / a;
                tried += (tried.empty() ? "" : ", ") + (dir / (release + ".btf[.tar.xz]")).string();
                if ((found = file_for(dir, release))) {
                    break;
                }
            }
        }
        if (!found) {
            TRY_ASSIGN(found, search(root, release, arch));
        }
        if (!found) {
            return make_error("btf_not_found",
                              "no BTF for kernel " + release + " (" + arch + ", " +
                                  facts.os.id.value_or("?") + " " +
                                  facts.os.version_id.value_or("?") + ") under " + source +
                                  (tried.empty() ? "" : ": looked for " + tried) + " and for " +
                                  release + ".btf anywhere below it");
        }
        picked = *found;
    } else {
        picked = root;
    }
    TRY_ASSIGN(auto file, read_btf(picked));
    TRY_ASSIGN(auto btf_facts, bpf::inspect_external_btf(*file.bytes, file.name));
    if (!btf_facts.arch.empty() && !arch.empty() && btf_facts.arch != arch) {
        return make_error("external_btf", file.name + ": BTF of an " + btf_facts.arch +
                                              " kernel, but the host is " + arch);
    }
    file.sha256 = btf_facts.sha256;
    return file;
}

} // namespace bpfleet::btf
