// journal.jsonl: a header line that says which run it belongs to (artifact
// digests per architecture, the options that shape verdicts, the inventory's
// hash), then one host result per line, appended and fsync'ed the moment a
// host is done, so that a killed run loses nothing and `--resume` can skip
// the hosts already answered — and refuse a journal of another run.
#pragma once

#include "common/fd.hpp"
#include "common/result.hpp"
#include "model/run_report.hpp"
#include "report/output_dir.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::report {

inline constexpr std::string_view kJournalSchema = "bpfleet.journal/v1";
inline constexpr std::string_view kJournalName = "journal.jsonl";

// Appends to a journal file opened elsewhere (OutputDir::open_append, or
// open_user_file_append for --resume: never by a path that may be a link).
class Journal {
public:
    explicit Journal(Fd fd) : m_fd(std::move(fd)) {}
    // A new OUT/journal.jsonl (an old one is replaced, atomically): the
    // header for `identity`, then `hosts` (carried over from a resumed
    // journal), then open for appending.
    static Result<Journal> create(const OutputDir& out, const RunIdentity& identity,
                                  const std::vector<HostResult>& hosts = {});
    Result<void> append(const HostResult& host);

private:
    Fd m_fd;
};

// The journal's header line for `identity` (with its newline).
std::string journal_header(const RunIdentity& identity);

struct JournalContents {
    RunIdentity identity;                    // from the header
    std::map<std::string, HostResult> hosts; // by name, the last line for a host wins
    std::uintmax_t complete_bytes = 0;       // the file up to its last complete line
    int torn_line = 0; // the number of a last line cut short by a kill (dropped), else 0
};

// A journal read back. A last line without its newline (a run killed
// mid-write) is dropped and reported in torn_line: that host runs again.
// Errors (code "usage", context PATH or PATH:LINE): cannot be read, no
// bpfleet.journal/v1 header on line 1, any other bad line.
Result<JournalContents> read_journal(const std::filesystem::path& path);

// The same, from an open journal (read from its start); `shown` names it in
// errors.
Result<JournalContents> read_journal(const Fd& fd, const std::filesystem::path& shown);

} // namespace bpfleet::report
