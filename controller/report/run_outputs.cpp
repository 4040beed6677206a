#include "report/run_outputs.hpp"

#include "report/html_writer.hpp"
#include "report/json_report.hpp"
#include "report/junit_writer.hpp"
#include "report/markdown_writer.hpp"

namespace bpfleet::report {

std::vector<std::unique_ptr<ReportWriter>> run_writers(const RunOutputs& outputs) {
    const std::filesystem::path report_path = outputs.output_dir.path() / "report.json";
    std::vector<std::unique_ptr<ReportWriter>> writers;
    writers.push_back(std::make_unique<JsonReportWriter>(outputs.output_dir, "report.json"));
    if (outputs.table != TableKind::Facts) {
        // bpfleet run: the documents for CI and for people (probe has no programs)
        writers.push_back(std::make_unique<JunitWriter>(outputs.output_dir));
        writers.push_back(std::make_unique<MarkdownWriter>(outputs.output_dir));
        writers.push_back(std::make_unique<HtmlWriter>(outputs.output_dir));
    }
    if (outputs.table_out) {
        writers.push_back(
            std::make_unique<TableWriter>(outputs.table, outputs.table_out, report_path.string()));
    }
    return writers;
}

Result<void> write_run_outputs(const RunReport& report, const RunOutputs& outputs) {
    return write_reports(report, run_writers(outputs));
}

} // namespace bpfleet::report
