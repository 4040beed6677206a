#include "report/run_recorder.hpp"

#include "report/host_files.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace bpfleet::report {

namespace fs = std::filesystem;

namespace {

// `fd` is OUT/journal.jsonl itself (same inode), not a journal elsewhere.
bool is_output_journal(const OutputDir& out, const Fd& fd) {
    struct stat in_out {};
    struct stat resumed {};
    return fstatat(out.fd(), std::string(kJournalName).c_str(), &in_out, AT_SYMLINK_NOFOLLOW) ==
               0 &&
           fstat(fd.get(), &resumed) == 0 && in_out.st_dev == resumed.st_dev &&
           in_out.st_ino == resumed.st_ino;
}

} // namespace

Result<RunRecorder> RunRecorder::open(const RecorderOptions& options, RunReportBuilder builder) {
    TRY_ASSIGN(OutputDir out, OutputDir::open(options.output_dir));
    TRY_ASSIGN(OutputDir hosts, out.subdir("hosts"));
    const fs::path journal_path = out.path() / kJournalName;
    if (options.resume.empty()) {
        TRY_ASSIGN(Journal journal, Journal::create(out, options.identity));
        RunRecorder recorder(std::move(out), std::move(hosts), journal_path, std::move(journal),
                             std::move(builder));
        recorder.m_identity = options.identity;
        return recorder;
    }
    // Read (and, when it is this output's journal, appended) through one
    // descriptor opened without following a link.
    TRY_ASSIGN(Fd resume_fd, open_user_file_append(options.resume));
    JournalContents previous;
    TRY_ASSIGN(previous, read_journal(resume_fd, options.resume));
    // The resumed run is the interrupted one: it keeps its id.
    RunIdentity identity = options.identity;
    if (!previous.identity.id.empty()) {
        identity.id = previous.identity.id;
    }
    if (const std::string diff = identity_difference(previous.identity, options.identity);
        !diff.empty()) {
        return make_error("usage",
                          "the journal is of another run: " + diff +
                              ". --resume continues an interrupted run of the same command "
                              "(same artifacts, options and inventory); run without --resume "
                              "to start afresh",
                          0, options.resume.string());
    }
    std::set<std::string> resumed;
    std::vector<HostResult> carried;
    for (auto& [name, host] : previous.hosts) {
        resumed.insert(name);
        carried.push_back(host);
        builder.add(std::move(host));
    }
    std::optional<Journal> journal;
    if (is_output_journal(out, resume_fd)) {
        // A torn last line goes before anything is appended after it.
        if (ftruncate(resume_fd.get(), static_cast<off_t>(previous.complete_bytes)) != 0) {
            return make_error("io",
                              std::string("cannot cut the journal's torn last line: ") +
                                  std::strerror(errno),
                              errno, options.resume.string());
        }
        journal.emplace(std::move(resume_fd));
    } else {
        TRY_ASSIGN(Journal created, Journal::create(out, identity, carried));
        journal.emplace(std::move(created));
    }
    RunRecorder recorder(std::move(out), std::move(hosts), journal_path, std::move(*journal),
                         std::move(builder));
    recorder.m_resumed = std::move(resumed);
    recorder.m_torn_line = previous.torn_line;
    recorder.m_identity = std::move(identity);
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
