// A ReportWriter renders a finished RunReport in one format, somewhere:
// report.json (json_report.hpp), the table on stdout (table.hpp); other
// formats are more writers. A run hands its report to every writer in turn.
//
// Writers never change the report and never see a run in progress; the files
// of a run in progress (journal, hosts/NAME/) are the RunRecorder's.
#pragma once

#include "common/result.hpp"
#include "model/run_report.hpp"

#include <memory>
#include <span>
#include <string>

namespace bpfleet::report {

class ReportWriter {
public:
    ReportWriter() = default;
    ReportWriter(const ReportWriter&) = delete;
    ReportWriter& operator=(const ReportWriter&) = delete;
    virtual ~ReportWriter() = default;

    // Errors name what could not be written (code "io").
    virtual Result<void> write(const RunReport& report) = 0;
};

// Every writer in order; stops at the first error and returns it.
inline Result<void> write_reports(const RunReport& report,
                                  std::span<const std::unique_ptr<ReportWriter>> writers) {
    for (const auto& writer : writers) {
        TRY(writer->write(report));
    }
    return {};
}

} // namespace bpfleet::report
