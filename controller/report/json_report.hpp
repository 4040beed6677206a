// report.json: the bpfleet.run/v1 document (docs/report-schema.md), written
// atomically (readers see the old file or the new one), and read back.
#pragma once

#include "report/report_writer.hpp"

#include <filesystem>
#include <string_view>

namespace bpfleet::report {

class JsonReportWriter final : public ReportWriter {
public:
    explicit JsonReportWriter(std::filesystem::path path) : m_path(std::move(path)) {}
    Result<void> write(const RunReport& report) override;
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

// A bpfleet.run/v1 document as a RunReport (its summary and exit status are
// worked out again from the hosts, not taken from the text). Errors (code
// "report"): not JSON, nested too deeply, another schema, a field of the
// wrong type.
Result<RunReport> parse_run_report(std::string_view text);

// parse_run_report() of a file; the error's context is the path.
Result<RunReport> read_run_report(const std::filesystem::path& path);

} // namespace bpfleet::report
