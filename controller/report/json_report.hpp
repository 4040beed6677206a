// report.json: the bpfleet.run/v1 document (docs/report-schema.md), written
// atomically (readers see the old file or the new one), and read back.
#pragma once

#include "report/output_dir.hpp"
#include "report/report_writer.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace bpfleet::report {

class JsonReportWriter final : public ReportWriter {
public:
    // Writes `name` in `dir` (OutputDir::write_file: atomic, no link followed).
    explicit JsonReportWriter(OutputDir dir, std::string name = "report.json")
        : m_dir(std::move(dir)), m_name(std::move(name)) {}
    Result<void> write(const RunReport& report) override;
    [[nodiscard]] std::filesystem::path path() const { return m_dir.path() / m_name; }

private:
    OutputDir m_dir;
    std::string m_name;
};

// A bpfleet.run/v1 document as a RunReport (its summary and exit status are
// worked out again from the hosts, not taken from the text). Errors (code
// "report"): not JSON, nested too deeply, another schema, a field of the
// wrong type.
Result<RunReport> parse_run_report(std::string_view text);

// parse_run_report() of a file; the error's context is the path.
Result<RunReport> read_run_report(const std::filesystem::path& path);

} // namespace bpfleet::report
