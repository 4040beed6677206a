#include "oci/archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <memory>
#include <set>

namespace bpfleet::oci {
namespace {

struct ArchiveDeleter {
    void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

ArchivePtr new_reader() {
    ArchivePtr a(archive_read_new());
    if (!a) {
        throw std::bad_alloc();
    }
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_zstd(a.get());
    archive_read_support_filter_xz(a.get());
    archive_read_support_filter_bzip2(a.get());
    return a;
}

std::string entry_error(archive* a) {
    const char* msg = archive_error_string(a);
    return msg ? msg : "unknown libarchive error";
}

// Parent directory of a normalised path ("" at the top).
std::string parent_of(const std::string& p) {
    auto slash = p.rfind('/');
    return slash == std::string::npos ? std::string{} : p.substr(0, slash);
}

struct Link {
    std::string path;
    std::string target; // normalised, relative to the archive root
    bool hard = false;
};

Result<ArchiveContents> read_all(archive* a, const std::string& name, const ArchiveLimits& limits) {
    auto where = [&](const std::string& entry) {
        return "archive " + name + (entry.empty() ? "" : ", entry '" + entry + "'");
    };
    ArchiveContents out;
    std::set<std::string> seen;
    std::vector<Link> links;
    std::uint64_t total = 0;
    std::uint64_t entries = 0;
    archive_entry* entry = nullptr;
    for (;;) {
        int rc = archive_read_next_header(a, &entry);
        if (rc == ARCHIVE_EOF) {
            break;
        }
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
            return make_error("ARCHIVE_INVALID", "cannot read the archive: " + entry_error(a),
                              archive_errno(a), where(""));
        }
        if (++entries > limits.max_entries) {
            return make_error("LIMIT_EXCEEDED",
                              "more than " + std::to_string(limits.max_entries) + " entries", 0,
                              where(""));
        }
        const char* raw = archive_entry_pathname(entry);
        std::string raw_path = raw ? raw : "";
        auto path = normalise_entry_path(raw_path);
        if (!path) {
            return make_error("ARCHIVE_UNSAFE", path.error().message, 0,
                              where(raw_path.substr(0, 300)));
        }
        if (path->empty()) {
            continue; // "./" itself
        }
        auto type = archive_entry_filetype(entry);
        const char* hardlink = archive_entry_hardlink(entry);
        if (type == AE_IFDIR) {
            if (!seen.insert(*path + "/").second) {
                continue; // repeated directories are harmless
            }
            continue;
        }
        if (!seen.insert(*path).second) {
            return make_error("ARCHIVE_UNSAFE", "duplicate entry would overwrite an earlier one", 0,
                              where(*path));
        }
        if (hardlink) {
            auto target = normalise_entry_path(hardlink);
            if (!target || target->empty()) {
                return make_error("ARCHIVE_UNSAFE",
                                  "hard link points outside the archive: '" +
                                      std::string(hardlink).substr(0, 300) + "'",
                                  0, where(*path));
            }
            links.push_back(Link{*path, *target, true});
            continue;
        }
        if (type == AE_IFLNK) {
            const char* sym = archive_entry_symlink(entry);
            std::string target_text = sym ? sym : "";
            if (target_text.empty() || target_text.front() == '/') {
                return make_error("ARCHIVE_UNSAFE",
                                  "symbolic link points outside the archive: '" +
                                      target_text.substr(0, 300) + "'",
                                  0, where(*path));
            }
            std::string joined = parent_of(*path);
            joined = joined.empty() ? target_text : joined + "/" + target_text;
            auto target = normalise_entry_path(joined);
            if (!target || target->empty()) {
                return make_error("ARCHIVE_UNSAFE",
                                  "symbolic link points outside the archive: '" +
                                      target_text.substr(0, 300) + "'",
                                  0, where(*path));
            }
            links.push_back(Link{*path, *target, false});
            continue;
        }
        if (type != AE_IFREG) {
            return make_error("ARCHIVE_UNSAFE", "device file, fifo or socket entries are refused",
                              0, where(*path));
        }
        if (archive_entry_size_is_set(entry)) {
            auto declared = archive_entry_size(entry);
            if (declared < 0 || static_cast<std::uint64_t>(declared) > limits.max_entry_bytes) {
                return make_error("LIMIT_EXCEEDED",
                                  "declared size " + std::to_string(declared) + " is over the " +
                                      std::to_string(limits.max_entry_bytes) + "-byte entry limit",
                                  0, where(*path));
            }
            if (total + static_cast<std::uint64_t>(declared) > limits.max_total_bytes) {
                return make_error("LIMIT_EXCEEDED",
                                  "archive content is over the " +
                                      std::to_string(limits.max_total_bytes) + "-byte limit",
                                  0, where(*path));
            }
        }
        std::vector<std::uint8_t> data;
        std::uint8_t buf[65536];
        for (;;) {
            la_ssize_t n = archive_read_data(a, buf, sizeof buf);
            if (n == 0) {
                break;
            }
            if (n < 0) {
                return make_error("ARCHIVE_INVALID", "cannot read the entry: " + entry_error(a),
                                  archive_errno(a), where(*path));
            }
            total += static_cast<std::uint64_t>(n);
            if (data.size() + static_cast<std::size_t>(n) > limits.max_entry_bytes ||
                total > limits.max_total_bytes) {
                return make_error("LIMIT_EXCEEDED",
                                  "entry expands past the size limit (decompression bomb?)", 0,
                                  where(*path));
            }
            data.insert(data.end(), buf, buf + n);
        }
        out.files.emplace(*path, std::move(data));
    }
    // Resolve links to the regular files they name; chains of links are
    // followed a few steps, never to anything outside the archive.
    for (int round = 0; round < 8 && !links.empty(); ++round) {
        std::vector<Link> pending;
        for (auto& link : links) {
            auto it = out.files.find(link.target);
            if (it != out.files.end()) {
                out.files.emplace(link.path, it->second);
            } else {
                pending.push_back(link);
            }
        }
        if (pending.size() == links.size()) {
            break;
        }
        links = std::move(pending);
    }
    // Links to nothing we kept (directories, missing targets) are dropped:
    // nothing reads them, and nothing is ever followed outside the archive.
    return out;
}

} // namespace

const std::vector<std::uint8_t>* ArchiveContents::find(const std::string& path) const {
    auto it = files.find(path);
    return it == files.end() ? nullptr : &it->second;
}

Result<std::string> normalise_entry_path(std::string_view path) {
    if (path.find('\0') != std::string_view::npos) {
        return make_error("ARCHIVE_UNSAFE", "path contains a NUL byte");
    }
    if (path.starts_with('/')) {
        return make_error("ARCHIVE_UNSAFE",
                          "absolute path '" + std::string(path.substr(0, 300)) + "'");
    }
    if (path.size() > 4096) {
        return make_error("ARCHIVE_UNSAFE", "path longer than 4096 characters");
    }
    std::string out;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        auto end = path.find('/', pos);
        std::string_view comp = path.substr(pos, end == std::string_view::npos ? end : end - pos);
        if (comp == "..") {
            return make_error("ARCHIVE_UNSAFE",
                              "path '" + std::string(path.substr(0, 300)) + "' contains '..'");
        }
        if (!comp.empty() && comp != ".") {
            if (!out.empty()) {
                out += '/';
            }
            out += comp;
        }
        if (end == std::string_view::npos) {
            break;
        }
        pos = end + 1;
    }
    return out;
}

Result<ArchiveContents> read_archive_file(const std::string& path, const ArchiveLimits& limits) {
    auto a = new_reader();
    if (archive_read_open_filename(a.get(), path.c_str(), 65536) != ARCHIVE_OK) {
        return make_error("ARCHIVE_INVALID", "cannot open: " + entry_error(a.get()),
                          archive_errno(a.get()), "archive " + path);
    }
    return read_all(a.get(), path, limits);
}

Result<ArchiveContents> read_archive_memory(std::span<const std::uint8_t> bytes,
                                            const std::string& name, const ArchiveLimits& limits) {
    auto a = new_reader();
    if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
        return make_error("ARCHIVE_INVALID", "cannot open: " + entry_error(a.get()),
                          archive_errno(a.get()), "archive " + name);
    }
    return read_all(a.get(), name, limits);
}

bool looks_like_archive(std::span<const std::uint8_t> bytes) {
    if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
        return true; // gzip
    }
    if (bytes.size() >= 4 && bytes[0] == 0x28 && bytes[1] == 0xb5 && bytes[2] == 0x2f &&
        bytes[3] == 0xfd) {
        return true; // zstd
    }
    if (bytes.size() >= 6 && bytes[0] == 0xfd && bytes[1] == '7' && bytes[2] == 'z' &&
        bytes[3] == 'X' && bytes[4] == 'Z' && bytes[5] == 0) {
        return true; // xz
    }
    if (bytes.size() >= 3 && bytes[0] == 'B' && bytes[1] == 'Z' && bytes[2] == 'h') {
        return true; // bzip2
    }
    if (bytes.size() >= 262 &&
        std::string_view(reinterpret_cast<const char*>(bytes.data()) + 257, 5) == "ustar") {
        return true;
    }
    return false;
}

} // namespace bpfleet::oci
