// summary.md: a run's report for a merge-request comment or a CI job's
// summary page. The programs × kernels matrix (hosts grouped by kernel
// release; a mark per cell, with the failure code, and the hosts that differ
// from the rest of their group), the hosts without an answer, the pairs
// without a verdict, the fixups applied, the expectations that were not met
// and the regressions against the baseline. Every text that came from a host
// is escaped: it cannot break the table or inject markup.
#pragma once

#include "report/output_dir.hpp"
#include "report/report_writer.hpp"

#include <string>

namespace bpfleet::report {

std::string summary_markdown(const RunReport& report);

class MarkdownWriter final : public ReportWriter {
public:
    explicit MarkdownWriter(OutputDir dir, std::string name = "summary.md")
        : m_dir(std::move(dir)), m_name(std::move(name)) {}
    Result<void> write(const RunReport& report) override {
        return m_dir.write_file(m_name, summary_markdown(report));
    }

private:
    OutputDir m_dir;
    std::string m_name;
};

} // namespace bpfleet::report
