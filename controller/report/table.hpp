// The table a person reads at the end of a run, on stdout: one row per
// program (bpfleet run) or per host's facts (bpfleet probe), host trouble on
// its own row, a summary line, and where the report was written.
#pragma once

#include "report/report_writer.hpp"

#include <cstdio>
#include <string>

namespace bpfleet::report {

enum class TableKind {
    Programs, // HOST OBJECT PROGRAM LOAD ATTACH FIRED CODE DETAIL
    Facts,    // HOST ARCH KERNEL OS BTF STATUS
};

class TableWriter final : public ReportWriter {
public:
    // `report_path`: named on the last line ("report: PATH"); "" leaves it out.
    TableWriter(TableKind kind, std::FILE* out, std::string report_path)
        : m_kind(kind), m_out(out), m_report_path(std::move(report_path)) {}
    Result<void> write(const RunReport& report) override;

private:
    TableKind m_kind;
    std::FILE* m_out;
    std::string m_report_path;
};

} // namespace bpfleet::report
