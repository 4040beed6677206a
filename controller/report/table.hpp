// What a person reads at the end of a run, on stdout (--format): the fleet
// table (fleet_table.hpp: identical results across hosts on one row), the
// hosts × programs matrix, or report.json itself; for bpfleet probe one row
// per host's facts. Then host trouble, the summary line, expectations,
// baseline, and where the report was written.
#pragma once

#include "report/report_writer.hpp"

#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace bpfleet::report {

enum class TableKind {
    Programs, // OBJECT PROGRAM LOAD ATTACH FIRED CODE HOSTS (--format table)
    Matrix,   // HOST KERNEL ARCH, a mark per program (--format matrix)
    Json,     // the report.json document (--format json)
    Facts,    // HOST ARCH KERNEL OS BTF STATUS (bpfleet probe)
};

// The table's verdict words (the LOAD, ATTACH and FIRED columns, the
// matrix's marks, the summary's counts) in colour, for a terminal. Works on
// the finished, terminal-safe text, so the only escapes in it are these.
std::string paint_table(std::string_view text);

// --format's word for a kind; nullopt for an unknown word.
std::optional<TableKind> table_kind_from_string(std::string_view word);

// The columns the table is fitted to: COLUMNS when it holds a number (as
// shells and CI runners set it), else the terminal's width when `out` is a
// terminal, else kDefaultWidth.
inline constexpr std::size_t kDefaultWidth = 100;
std::size_t terminal_width(std::FILE* out);

// The whole text TableWriter prints, for `width` columns (not yet made
// terminal-safe).
std::string table_text(const RunReport& report, TableKind kind, std::size_t width,
                       const std::string& report_path);

class TableWriter final : public ReportWriter {
public:
    // `report_path`: named on the last line ("report: PATH"); "" leaves it
    // out. `width` 0: terminal_width(out).
    TableWriter(TableKind kind, std::FILE* out, std::string report_path, std::size_t width = 0)
        : m_kind(kind), m_out(out), m_report_path(std::move(report_path)), m_width(width) {}
    Result<void> write(const RunReport& report) override;

private:
    TableKind m_kind;
    std::FILE* m_out;
    std::string m_report_path;
    std::size_t m_width;
};

} // namespace bpfleet::report
