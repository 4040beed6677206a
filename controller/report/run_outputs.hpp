// The files and text a finished run leaves: which writers render its report,
// in which order: report.json in the output directory, for `bpfleet run` also
// junit.xml, summary.md and report.html, then the table on stdout.
#pragma once

#include "report/output_dir.hpp"
#include "report/report_writer.hpp"
#include "report/table.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

namespace bpfleet::report {

struct RunOutputs {
    OutputDir output_dir;                  // every file goes through it (RunRecorder::output())
    TableKind table = TableKind::Programs; // --format; bpfleet probe: Facts
    std::FILE* table_out = stdout;         // nullptr: no table (-q)
};

// report.json first: a table that cannot be printed must not cost the file.
std::vector<std::unique_ptr<ReportWriter>> run_writers(const RunOutputs& outputs);

// run_writers() applied to `report`; the first writer's error, if any.
Result<void> write_run_outputs(const RunReport& report, const RunOutputs& outputs);

} // namespace bpfleet::report
