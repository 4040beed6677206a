// report.html: a run's report for a person in a browser, as one
// self-contained file (no network fetch: a Content-Security-Policy forbids
// any). The report's JSON is embedded; the page's script draws from it the
// programs × hosts matrix coloured by verdict (hosts grouped by kernel or by
// tag), filters by tag, verdict and code, a click on a cell shows the
// program's stages (verifier log, attach details, hint), the verifier
// instructions processed per kernel, the hosts without an answer, the
// expectations and the diff against the baseline. Host text reaches the page
// only as text nodes, never as markup.
#pragma once

#include "report/output_dir.hpp"
#include "report/report_writer.hpp"

#include <string>

namespace bpfleet::report {

std::string report_html(const RunReport& report);

class HtmlWriter final : public ReportWriter {
public:
    explicit HtmlWriter(OutputDir dir, std::string name = "report.html")
        : m_dir(std::move(dir)), m_name(std::move(name)) {}
    Result<void> write(const RunReport& report) override {
        return m_dir.write_file(m_name, report_html(report));
    }

private:
    OutputDir m_dir;
    std::string m_name;
};

} // namespace bpfleet::report
