// A baseline diff (docs/report-diff.md): what changed from one run's report
// to another's, program by program: regressions (pass -> fail, error or
// miss), improvements, failure code changes, and the hosts and programs that
// are new or gone. `bpfleet report diff OLD NEW` prints it; `bpfleet run
// --baseline OLD` puts it in report.json. Plain values, no I/O.
#pragma once

#include "model/run_report.hpp"

#include <string>
#include <vector>

namespace bpfleet {

// Errors (code "usage"): the two reports are not of the same kind of run
// (run against probe), or have no artifact or no host in common: nothing
// could be compared. `old_file`/`new_file` name them.
Result<ReportDiff> diff_reports(const RunReport& old_report, const RunReport& new_report,
                                const std::string& old_file, const std::string& new_file);

// The diff for a person: a line per change, grouped, then the counts.
std::string diff_text(const ReportDiff& diff);

} // namespace bpfleet
