#include "report/run_recorder.hpp"

#include "report/host_files.hpp"

#include <system_error>
#include <utility>

namespace bpfleet::report {

namespace fs = std::filesystem;

Result<RunRecorder> RunRecorder::open(const RecorderOptions& options, RunReportBuilder builder) {
    const fs::path& out = options.output_dir;
    std::error_code ec;
    fs::create_directories(out / "hosts", ec);
    if (ec) {
        return make_error("io", "cannot create the output directory: " + ec.message(), ec.value(),
                          out.string());
    }
    const fs::path journal_path = options.resume.empty() ? out / "journal.jsonl" : options.resume;
    std::set<std::string> resumed;
    if (!options.resume.empty()) {
        std::map<std::string, HostResult> previous;
        TRY_ASSIGN(previous, read_journal(journal_path));
        for (auto& [name, host] : previous) {
            resumed.insert(name);
            builder.add(std::move(host));
        }
    } else {
        fs::remove(journal_path, ec);
    }
    TRY_ASSIGN(Journal journal, Journal::open(journal_path));
    RunRecorder recorder(out, journal_path, std::move(journal), std::move(builder));
    recorder.m_resumed = std::move(resumed);
    return recorder;
}

bool RunRecorder::resumed(const std::string& host_name) const {
    return m_resumed.count(host_name) != 0;
}

Result<void> RunRecorder::record(HostResult result, const std::string& agent_stderr,
                                 bool cancelled) {
    Result<void> status;
    if (!cancelled) {
        if (auto appended = m_journal.append(result); !appended && !m_journal_failed) {
            m_journal_failed = true;
            status = tl::unexpected(appended.error());
        }
        write_host_files(m_output_dir / "hosts" / result.name, result, agent_stderr);
    }
    m_builder.add(std::move(result));
    return status;
}

} // namespace bpfleet::report
