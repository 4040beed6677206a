#include "oci/cache.hpp"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <random>
#include <unistd.h>

namespace bpfleet::oci {
namespace {

namespace fs = std::filesystem;

std::string random_suffix() {
    static std::atomic<std::uint64_t> counter{0};
    std::random_device rd;
    return std::to_string(::getpid()) + "-" + std::to_string(rd()) + "-" +
           std::to_string(counter++);
}

Error io_error(const std::string& what, const fs::path& path, int err) {
    return Error{"CACHE_ERROR", err, what + ": " + std::strerror(err), "cache " + path.string()};
}

} // namespace

fs::path default_cache_dir() {
    if (const char* dir = std::getenv("BPFLEET_CACHE_DIR"); dir && *dir) {
        return dir;
    }
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg && xdg[0] == '/') {
        return fs::path(xdg) / "bpfleet";
    }
    if (const char* home = std::getenv("HOME"); home && *home) {
        return fs::path(home) / ".cache" / "bpfleet";
    }
    return fs::temp_directory_path() / "bpfleet-cache";
}

BlobWriter::BlobWriter(fs::path tmp, fs::path final_path, Digest expected, std::uint64_t max_size,
                       std::optional<std::uint64_t> exact_size, FilePtr file, std::string what)
    : m_tmp(std::move(tmp)), m_final(std::move(final_path)), m_expected(std::move(expected)),
      m_max_size(max_size), m_exact_size(exact_size), m_file(std::move(file)),
      m_what(std::move(what)), m_hasher(m_expected.algorithm) {}

BlobWriter::BlobWriter(BlobWriter&& o) noexcept
    : m_tmp(std::move(o.m_tmp)), m_final(std::move(o.m_final)), m_expected(std::move(o.m_expected)),
      m_max_size(o.m_max_size), m_exact_size(o.m_exact_size), m_file(std::move(o.m_file)),
      m_what(std::move(o.m_what)), m_hasher(std::move(o.m_hasher)), m_written(o.m_written),
      m_error(std::move(o.m_error)), m_committed(o.m_committed) {
    o.m_committed = true; // the moved-from writer owns nothing
}

BlobWriter::~BlobWriter() {
    m_file.reset();
    if (!m_committed) {
        std::error_code ec;
        fs::remove(m_tmp, ec);
    }
}

bool BlobWriter::write(std::span<const std::uint8_t> data) {
    if (m_error) {
        return false;
    }
    std::uint64_t limit = m_exact_size ? *m_exact_size : m_max_size;
    if (m_written + data.size() > limit) {
        m_error =
            Error{m_exact_size ? "DIGEST_MISMATCH" : "LIMIT_EXCEEDED", 0,
                  m_exact_size ? "more bytes than the " + std::to_string(*m_exact_size) +
                                     " its descriptor declares"
                               : "blob is over the " + std::to_string(m_max_size) + "-byte limit",
                  m_what};
        return false;
    }
    m_hasher.update(data);
    if (!data.empty() && std::fwrite(data.data(), 1, data.size(), m_file.get()) != data.size()) {
        m_error = io_error("write failed", m_tmp, errno);
        return false;
    }
    m_written += data.size();
    return true;
}

Result<void> BlobWriter::reset() {
    if (!m_file) {
        return make_error("CACHE_ERROR", "writer already committed", 0, m_what);
    }
    if (std::fflush(m_file.get()) != 0 || ::ftruncate(::fileno(m_file.get()), 0) != 0) {
        return tl::unexpected(io_error("cannot truncate", m_tmp, errno));
    }
    std::rewind(m_file.get());
    m_hasher = DigestHasher(m_expected.algorithm);
    m_written = 0;
    m_error.reset();
    return {};
}

Result<fs::path> BlobWriter::commit() {
    if (m_error) {
        return tl::unexpected(*m_error);
    }
    if (m_exact_size && m_written != *m_exact_size) {
        return make_error("DIGEST_MISMATCH",
                          "got " + std::to_string(m_written) + " bytes, its descriptor declares " +
                              std::to_string(*m_exact_size),
                          0, m_what);
    }
    Digest got = m_hasher.finish();
    if (got != m_expected) {
        return make_error("DIGEST_MISMATCH",
                          "content does not match its digest: expected " + m_expected.str() +
                              ", got " + got.str(),
                          0, m_what);
    }
    if (std::fflush(m_file.get()) != 0 || ::fsync(::fileno(m_file.get())) != 0) {
        return tl::unexpected(io_error("flush failed", m_tmp, errno));
    }
    m_file.reset();
    std::error_code ec;
    fs::rename(m_tmp, m_final, ec);
    if (ec) {
        return tl::unexpected(io_error("rename failed", m_final, ec.value()));
    }
    m_committed = true;
    return m_final;
}

BlobCache::BlobCache(fs::path root) : m_root(std::move(root)) {}

fs::path BlobCache::blob_path(const Digest& d) const {
    return m_root / "blobs" / d.algorithm / d.hex;
}

bool BlobCache::has(const Digest& d) const {
    std::error_code ec;
    return fs::is_regular_file(blob_path(d), ec);
}

Result<void> BlobCache::ensure_dirs(const fs::path& dir) const {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        return tl::unexpected(io_error("cannot create directory", dir, ec.value()));
    }
    return {};
}

Result<std::optional<std::vector<std::uint8_t>>> BlobCache::read(const Digest& d,
                                                                 std::uint64_t max_size) const {
    auto path = blob_path(d);
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        return std::optional<std::vector<std::uint8_t>>{};
    }
    auto size = fs::file_size(path, ec);
    if (ec) {
        return tl::unexpected(io_error("cannot stat", path, ec.value()));
    }
    if (size > max_size) {
        return make_error("LIMIT_EXCEEDED", "cached blob is over the size limit", 0,
                          "cache " + path.string());
    }
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> data(size);
    in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(size));
    if (static_cast<std::uint64_t>(in.gcount()) != size) {
        return tl::unexpected(io_error("short read", path, EIO));
    }
    auto ok = verify_digest(data, d, "cached blob " + d.str());
    if (!ok) {
        fs::remove(path, ec); // a corrupt entry is never served again
        return tl::unexpected(ok.error());
    }
    return std::optional<std::vector<std::uint8_t>>(std::move(data));
}

Result<BlobWriter> BlobCache::begin(const Digest& d, std::uint64_t max_size,
                                    std::optional<std::uint64_t> exact_size,
                                    std::string what) const {
    auto tmp_dir = m_root / "tmp";
    TRY(ensure_dirs(tmp_dir));
    auto final_path = blob_path(d);
    TRY(ensure_dirs(final_path.parent_path()));
    auto tmp = tmp_dir / (d.hex.substr(0, 16) + "." + random_suffix());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        return tl::unexpected(io_error("cannot create", tmp, errno));
    }
    auto f = adopt_fd(fd, "wb");
    if (!f) {
        int err = errno;
        ::close(fd);
        return tl::unexpected(io_error("fdopen failed", tmp, err));
    }
    return BlobWriter(tmp, final_path, d, max_size, exact_size, std::move(f), std::move(what));
}

Result<void> BlobCache::put(const Digest& d, std::span<const std::uint8_t> bytes,
                            std::string what) const {
    if (has(d)) {
        return {};
    }
    auto w = begin(d, bytes.size(), bytes.size(), std::move(what));
    if (!w) {
        return tl::unexpected(w.error());
    }
    w->write(bytes);
    TRY(w->commit());
    return {};
}

fs::path BlobCache::tag_path(const RegistryReference& ref) const {
    // registry, repository and tag were validated by parse_registry_reference:
    // no "..", no "/" in the registry, no "@" anywhere, so "@tag" cannot
    // collide with a repository component.
    return m_root / "refs" / ref.registry / ref.repository / "@tag" / ref.tag;
}

Result<void> BlobCache::put_tag(const RegistryReference& ref, const Digest& manifest) const {
    if (ref.tag.empty()) {
        return {};
    }
    auto path = tag_path(ref);
    TRY(ensure_dirs(path.parent_path()));
    auto tmp = path.parent_path() / ("." + ref.tag + "." + random_suffix());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << manifest.str() << "\n";
        if (!out) {
            return tl::unexpected(io_error("cannot write", tmp, errno));
        }
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return tl::unexpected(io_error("rename failed", path, ec.value()));
    }
    return {};
}

Result<std::optional<Digest>> BlobCache::get_tag(const RegistryReference& ref) const {
    auto path = tag_path(ref);
    std::ifstream in(path);
    if (!in) {
        return std::optional<Digest>{};
    }
    std::string line;
    std::getline(in, line);
    auto d = parse_digest(line);
    if (!d) {
        return make_error("CACHE_ERROR", "corrupt tag entry: " + d.error().message, 0,
                          "cache " + path.string());
    }
    return std::optional<Digest>(*d);
}

} // namespace bpfleet::oci
