#include "report/run_recorder.hpp"

#include "report/host_files.hpp"

#include <utility>

namespace bpfleet::report {

namespace fs = std::filesystem;

Result<RunRecorder> RunRecorder::open(const RecorderOptions& options, RunReportBuilder builder) {
    TRY_ASSIGN(OutputDir out, OutputDir::open(options.output_dir));
    TRY_ASSIGN(OutputDir hosts, out.subdir("hosts"));
    std::set<std::string> resumed;
    Fd journal_fd;
    fs::path journal_path;
    if (!options.resume.empty()) {
        // Read and appended through one descriptor, opened without following
        // a link: a journal swapped for a link is neither read nor written.
        journal_path = options.resume;
        TRY_ASSIGN(journal_fd, open_user_file_append(journal_path));
        std::map<std::string, HostResult> previous;
        TRY_ASSIGN(previous, read_journal(journal_fd, journal_path));
        for (auto& [name, host] : previous) {
            resumed.insert(name);
            builder.add(std::move(host));
        }
    } else {
        journal_path = out.path() / "journal.jsonl";
        TRY(out.remove("journal.jsonl"));
        TRY_ASSIGN(journal_fd, out.open_append("journal.jsonl"));
    }
    RunRecorder recorder(std::move(out), std::move(hosts), journal_path,
                         Journal(std::move(journal_fd)), std::move(builder));
    recorder.m_resumed = std::move(resumed);
    return recorder;
}

bool RunRecorder::resumed(const std::string& host_name) const {
    return m_resumed.count(host_name) != 0;
}

std::vector<Error> RunRecorder::record(HostResult result, const std::string& agent_stderr,
                                       bool cancelled) {
    std::vector<Error> errors;
    if (!cancelled) {
        if (auto appended = m_journal.append(result); !appended && !m_journal_failed) {
            m_journal_failed = true;
            errors.push_back(std::move(appended.error()));
        }
        for (auto& e : write_host_files(m_hosts, result, agent_stderr)) {
            errors.push_back(std::move(e));
        }
    }
    m_builder.add(std::move(result));
    return errors;
}

} // namespace bpfleet::report
