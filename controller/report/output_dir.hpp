// OutputDir: the one way bpfleet writes into an output directory (`-o`).
//
// A run is often started as root on a directory other users can reach (a
// shared /tmp/out). Writing there by path would follow any symbolic link a
// local user planted (hosts/NAME/facts.json -> /etc/shadow, a symlinked
// hosts/NAME folder, a guessed report.json.tmp.PID). So the directory is
// opened once, checked, and held by a descriptor; every file below it is
// reached relative to that descriptor (openat, mkdirat, renameat, unlinkat),
// never following a symbolic link:
//
//  - open() makes the directory (and its missing parents) or takes the
//    existing one, and refuses it unless it is a directory owned by the
//    effective user and, when that user is root, writable by nobody else. A
//    symbolic link as the last component is followed only when it belongs to
//    the effective user or to root.
//  - subdir() opens or makes a folder below with O_NOFOLLOW, checked the same
//    way: a planted link or a folder of another user is an error, not a path.
//  - write_file() replaces a file atomically: a fresh temp file with an
//    unguessable name (O_CREAT | O_EXCL | O_NOFOLLOW), written, fsync'ed and
//    renamed over the name (a link there is replaced, never followed).
//  - open_append() opens a file for appending with O_NOFOLLOW, and only a
//    regular file of the effective user.
//
// Every writer of a run's outputs (report.json, the journal, hosts/NAME/,
// and further formats) takes an OutputDir, never a path. Copies share one
// descriptor (closed with the last copy); use from one thread at a time.
// Errors (code "io") name the file (`context`) and the errno.
#pragma once

#include "common/fd.hpp"
#include "common/result.hpp"

#include <filesystem>
#include <memory>
#include <string_view>
#include <sys/types.h>

namespace bpfleet::report {

class OutputDir {
public:
    // Makes or opens and checks `path` (see above).
    static Result<OutputDir> open(const std::filesystem::path& path);

    // The folder `relative` below this one ("hosts", "hosts/a/logs"), each
    // component made if missing (mode 0755) and opened without following a
    // link. Components must be plain names: not empty, ".", ".." or with NUL.
    [[nodiscard]] Result<OutputDir> subdir(std::string_view relative) const;

    // Replaces the file `name` (one plain name) with `text`, atomically:
    // readers see the old file or the new one. A failure (a full disk) leaves
    // the old file and no temp file behind.
    [[nodiscard]] Result<void> write_file(std::string_view name, std::string_view text,
                                          mode_t mode = 0644) const;

    // `name` opened for appending (made if missing, mode 0644); refused when
    // it is a symbolic link, not a regular file, or another user's file.
    [[nodiscard]] Result<Fd> open_append(std::string_view name) const;

    // Removes the file `name` if it is there (a link is removed, not followed).
    [[nodiscard]] Result<void> remove(std::string_view name) const;

    // The path the directory was opened by, for messages.
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    [[nodiscard]] int fd() const { return m_fd->get(); }

private:
    OutputDir(std::shared_ptr<const Fd> fd, std::filesystem::path path)
        : m_fd(std::move(fd)), m_path(std::move(path)) {}

    std::shared_ptr<const Fd> m_fd;
    std::filesystem::path m_path;
};

// A file the user named outside any output directory (`--resume JOURNAL`),
// opened for reading and appending. Refused when the last component is a
// symbolic link, or the file is not a regular file owned by the effective
// user (a journal another user can swap is not one to append to as root).
Result<Fd> open_user_file_append(const std::filesystem::path& path);

} // namespace bpfleet::report
