// journal.jsonl: one host result per line, appended and fsync'ed the moment a
// host is done, so that a killed run loses nothing and `--resume` can skip
// the hosts already answered.
#pragma once

#include "common/fd.hpp"
#include "common/result.hpp"
#include "model/run_report.hpp"

#include <filesystem>
#include <map>
#include <string>

namespace bpfleet::report {

// Appends to a journal file opened elsewhere (OutputDir::open_append, or
// open_user_file_append for --resume: never by a path that may be a link).
class Journal {
public:
    explicit Journal(Fd fd) : m_fd(std::move(fd)) {}
    Result<void> append(const HostResult& host);

private:
    Fd m_fd;
};

// Host results in a journal, by host name (the last line for a host wins).
// A truncated last line (a run killed mid-write) is ignored; any other bad
// line is an error naming its line number.
Result<std::map<std::string, HostResult>> read_journal(const std::filesystem::path& path);

// The same, from an open journal (read from its start); `shown` names it in
// errors.
Result<std::map<std::string, HostResult>> read_journal(const Fd& fd,
                                                       const std::filesystem::path& shown);

} // namespace bpfleet::report
