// RunRecorder: everything one run writes into its output directory while it
// goes. It makes the directory, starts OUTPUT/journal.jsonl with the run's
// header (or, under --resume, reads the journal of the interrupted run,
// refuses it when it is of another run, and carries its hosts over), and, as
// each host finishes, appends it to the journal, writes hosts/NAME/ and hands
// the result to the report builder. At the end finish() gives the report for
// the writers. The journal and hosts/ are always in the output directory.
//
// Move-only (it owns the open journal); used from one thread.
#pragma once

#include "common/result.hpp"
#include "report/journal.hpp"
#include "report/output_dir.hpp"
#include "report/run_report_builder.hpp"

#include <cstddef>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace bpfleet::report {

struct RecorderOptions {
    std::filesystem::path output_dir;
    // The journal of an interrupted run: its hosts are taken as they are and
    // new ones are appended to OUTPUT/journal.jsonl (a copy of it when it is
    // elsewhere; the other file is left as it is). Empty: a fresh journal.
    std::filesystem::path resume;
    // This run's identity: the journal's header; a resumed journal must
    // have the same.
    RunIdentity identity;
};

class RunRecorder {
public:
    // Errors (exit 2 for the CLI): the output directory cannot be made or is
    // refused (OutputDir::open: another user's, or writable by others when
    // run as root), the journal to resume is a link, another user's, cannot
    // be read or has a bad line, the journal cannot be opened for appending.
    static Result<RunRecorder> open(const RecorderOptions& options, RunReportBuilder builder);

    // The host was answered in the resumed journal: it is not run again.
    [[nodiscard]] bool resumed(const std::string& host_name) const;
    [[nodiscard]] std::size_t resumed_count() const { return m_resumed.size(); }
    [[nodiscard]] const std::filesystem::path& journal_path() const { return m_journal_path; }
    // The line of the resumed journal that a kill had cut short (dropped,
    // its host runs again), 0 when none.
    [[nodiscard]] int torn_line() const { return m_torn_line; }
    [[nodiscard]] const std::filesystem::path& output_dir() const { return m_output.path(); }
    // The checked output directory: every writer of the run's outputs uses it.
    [[nodiscard]] const OutputDir& output() const { return m_output; }
    [[nodiscard]] RunReportBuilder& builder() { return m_builder; }
    // The run's identity as journaled: a resumed run's id is the journal's.
    [[nodiscard]] const RunIdentity& identity() const { return m_identity; }

    // One host's end. An answer (not `cancelled`) is journaled at once and
    // its hosts/NAME/ files written; every result goes to the report. Returns
    // what could not be written, one error per file: the first journal
    // failure (once: later ones are not repeated) and each hosts/NAME/ file
    // that failed. The result still reaches the report.
    std::vector<Error> record(HostResult result, const std::string& agent_stderr, bool cancelled);

    // The finished report (see RunReportBuilder::finish).
    [[nodiscard]] RunReport finish(std::string cancelled) {
        return m_builder.finish(std::move(cancelled));
    }

private:
    RunRecorder(OutputDir output, OutputDir hosts, std::filesystem::path journal_path,
                Journal journal, RunReportBuilder builder)
        : m_output(std::move(output)), m_hosts(std::move(hosts)),
          m_journal_path(std::move(journal_path)), m_journal(std::move(journal)),
          m_builder(std::move(builder)) {}

    OutputDir m_output;
    OutputDir m_hosts; // OUTPUT/hosts
    std::filesystem::path m_journal_path;
    Journal m_journal;
    RunReportBuilder m_builder;
    RunIdentity m_identity;
    std::set<std::string> m_resumed; // host names answered in the resumed journal
    bool m_journal_failed = false;
    int m_torn_line = 0;
};

} // namespace bpfleet::report
