// journal.jsonl: one host result per line, appended and fsync'ed the moment a
// host is done, so that a killed run loses nothing and `--resume` can skip
// the hosts already answered. Also the atomic writer for report files.
#pragma once

#include "common/fd.hpp"
#include "common/result.hpp"
#include "model/run_report.hpp"

#include <filesystem>
#include <map>
#include <string>

namespace bpfleet::report {

// The open journal (move-only: it owns the descriptor).
class Journal {
public:
    static Result<Journal> open(const std::filesystem::path& path);
    Result<void> append(const HostResult& host);

private:
    explicit Journal(Fd fd) : m_fd(std::move(fd)) {}
    Fd m_fd;
};

// Host results in a journal, by host name (the last line for a host wins).
// A truncated last line (a run killed mid-write) is ignored; any other bad
// line is an error naming its line number.
Result<std::map<std::string, HostResult>> read_journal(const std::filesystem::path& path);

// Writes `text` to `path` through a temp file and rename: readers see the old
// file or the new one, never a partial one.
Result<void> write_file_atomic(const std::filesystem::path& path, const std::string& text);

} // namespace bpfleet::report
