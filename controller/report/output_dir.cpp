#include "report/output_dir.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace bpfleet::report {

namespace fs = std::filesystem;

namespace {

Error io_error(const std::string& what, int err, const fs::path& where) {
    return Error{"io", err, what + ": " + std::strerror(err), where.string()};
}

// One plain file or folder name: no separator, no "." or "..", no NUL.
Result<void> check_name(std::string_view name, const fs::path& dir) {
    if (name.empty() || name == "." || name == ".." ||
        name.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos) {
        return make_error("io", "not a plain file name: '" + std::string(name) + "'", 0,
                          dir.string());
    }
    return {};
}

// The rule for every folder bpfleet writes into: a directory of the effective
// user; when that is root, writable by nobody else (another user could plant
// or swap entries in it).
Result<void> check_dir(int fd, const fs::path& shown) {
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        return tl::unexpected(io_error("cannot check the output directory", errno, shown));
    }
    if (!S_ISDIR(st.st_mode)) {
        return make_error("io", "not a directory", ENOTDIR, shown.string());
    }
    const uid_t me = geteuid();
    if (st.st_uid != me) {
        return make_error("io",
                          "the output directory belongs to uid " + std::to_string(st.st_uid) +
                              ", not to the user running bpfleet (uid " + std::to_string(me) +
                              "): another user could plant links in it; choose another -o",
                          EPERM, shown.string());
    }
    if (me == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return make_error("io",
                          std::string("the output directory is writable by other users (mode ") +
                              mode +
                              ") and bpfleet runs as root: another user could plant links in "
                              "it; use a folder only root can write (chmod go-w) or another -o",
                          EPERM, shown.string());
    }
    return {};
}

std::string random_suffix() {
    std::array<unsigned char, 8> bytes{};
    std::size_t got = 0;
    while (got < bytes.size()) {
        ssize_t n = getrandom(bytes.data() + got, bytes.size() - got, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; // O_EXCL still keeps a guessed name from being followed
        }
        got += static_cast<std::size_t>(n);
    }
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

Result<void> write_all(int fd, std::string_view text, const fs::path& shown) {
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return tl::unexpected(io_error("cannot write", errno, shown));
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

} // namespace

Result<OutputDir> OutputDir::open(const fs::path& path) {
    const fs::path target = path.empty() ? fs::path(".") : path;
    std::error_code ec;
    if (target.has_parent_path()) {
        fs::create_directories(target.parent_path(), ec); // errors surface in the open below
    }
    if (::mkdir(target.c_str(), 0755) != 0 && errno != EEXIST) {
        return tl::unexpected(io_error("cannot create the output directory", errno, target));
    }
    Fd fd(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd && (errno == ELOOP || errno == ENOTDIR)) {
        // A link as the last component: followed only when it is the
        // effective user's or root's own (another user's link could point
        // anywhere, and be repointed later).
        struct stat link {};
        if (::lstat(target.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
            if (link.st_uid != geteuid() && link.st_uid != 0) {
                return make_error("io",
                                  "the output directory is a symbolic link of uid " +
                                      std::to_string(link.st_uid) + ": not followed",
                                  ELOOP, target.string());
            }
            fd.reset(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        } else {
            errno = ENOTDIR;
        }
    }
    if (!fd) {
        return tl::unexpected(io_error("cannot open the output directory", errno, target));
    }
    TRY(check_dir(fd.get(), target));
    return OutputDir(std::make_shared<const Fd>(std::move(fd)), target);
}

Result<OutputDir> OutputDir::subdir(std::string_view relative) const {
    std::shared_ptr<const Fd> current = m_fd;
    fs::path shown = m_path;
    std::size_t start = 0;
    while (start <= relative.size()) {
        std::size_t slash = relative.find('/', start);
        if (slash == std::string_view::npos) {
            slash = relative.size();
        }
        const std::string name(relative.substr(start, slash - start));
        TRY(check_name(name, shown));
        shown /= name;
        if (::mkdirat(current->get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
            return tl::unexpected(io_error("cannot create the folder", errno, shown));
        }
        Fd next(::openat(current->get(), name.c_str(),
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) {
            if (errno == ELOOP || errno == ENOTDIR) {
                return make_error("io", "a symbolic link or a file, not a folder: not followed",
                                  errno, shown.string());
            }
            return tl::unexpected(io_error("cannot open the folder", errno, shown));
        }
        TRY(check_dir(next.get(), shown));
        current = std::make_shared<const Fd>(std::move(next));
        start = slash + 1;
    }
    return OutputDir(std::move(current), std::move(shown));
}

Result<void> OutputDir::write_file(std::string_view name, std::string_view text,
                                   mode_t mode) const {
    TRY(check_name(name, m_path));
    const fs::path shown = m_path / std::string(name);
    const int dir = m_fd->get();
    std::string tmp;
    Fd fd;
    for (int attempt = 0; attempt < 16 && !fd; ++attempt) {
        tmp = "." + std::string(name) + ".tmp." + random_suffix();
        fd.reset(
            ::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
        if (!fd && errno != EEXIST) {
            break;
        }
    }
    if (!fd) {
        return tl::unexpected(io_error("cannot create a temp file for", errno, shown));
    }
    auto written = write_all(fd.get(), text, shown);
    if (written && ::fsync(fd.get()) != 0) {
        written = tl::unexpected(io_error("cannot write (fsync)", errno, shown));
    }
    if (written && ::close(fd.release()) != 0) {
        written = tl::unexpected(io_error("cannot write (close)", errno, shown));
    }
    if (written && ::renameat(dir, tmp.c_str(), dir, std::string(name).c_str()) != 0) {
        written = tl::unexpected(io_error("cannot replace", errno, shown));
    }
    if (!written) {
        ::unlinkat(dir, tmp.c_str(), 0);
    }
    return written;
}

Result<Fd> OutputDir::open_append(std::string_view name) const {
    TRY(check_name(name, m_path));
    const fs::path shown = m_path / std::string(name);
    Fd fd(::openat(m_fd->get(), std::string(name).c_str(),
                   O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd) {
        if (errno == ELOOP) {
            return make_error("io", "a symbolic link: not followed", ELOOP, shown.string());
        }
        return tl::unexpected(io_error("cannot open", errno, shown));
    }
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) {
        return tl::unexpected(io_error("cannot check", errno, shown));
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        return make_error("io", "not a regular file of the user running bpfleet", EPERM,
                          shown.string());
    }
    return fd;
}

Result<void> OutputDir::remove(std::string_view name) const {
    TRY(check_name(name, m_path));
    if (::unlinkat(m_fd->get(), std::string(name).c_str(), 0) != 0 && errno != ENOENT) {
        return tl::unexpected(io_error("cannot remove", errno, m_path / std::string(name)));
    }
    return {};
}

Result<Fd> open_user_file_append(const fs::path& path) {
    Fd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        if (errno == ELOOP) {
            return make_error("io", "a symbolic link: give the file itself", ELOOP, path.string());
        }
        return tl::unexpected(io_error("cannot open", errno, path));
    }
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) {
        return tl::unexpected(io_error("cannot check", errno, path));
    }
    if (!S_ISREG(st.st_mode)) {
        return make_error("io", "not a regular file", EINVAL, path.string());
    }
    const uid_t me = geteuid();
    if (st.st_uid != me || (me == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)) {
        return make_error("io",
                          "belongs to uid " + std::to_string(st.st_uid) +
                              " or is writable by other users: not a file to append to as uid " +
                              std::to_string(me),
                          EPERM, path.string());
    }
    return fd;
}

} // namespace bpfleet::report
