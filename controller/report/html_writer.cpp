#include "report/html_writer.hpp"

#include "report/host_files.hpp"

#include <map>
#include <set>
#include <string_view>
#include <tuple>

namespace bpfleet::report {

// The page (html_page.cpp): HTML, CSS and script, with kDataMarker where the
// data goes.
extern const std::string_view kReportHtmlPage;
extern const std::string_view kReportHtmlDataMarker;

namespace {

// What the page draws, worked out here so that the verdict rules live in one
// place (the model), and the whole report for the details.
Json page_data(const RunReport& report) {
    const RunSummary summary = report.summary();
    std::set<std::pair<std::string, std::string>> missing;
    for (const auto& m : summary.missing) {
        missing.emplace(m.host, m.artifact);
    }
    Json hosts = Json::array();
    for (const auto& h : report.hosts) {
        Json host{{"name", h.name},   {"status", to_string(h.status)},
                  {"stage", h.stage}, {"error", h.error},
                  {"tags", h.tags},   {"groups", h.groups},
                  {"kernel", ""},     {"arch", ""},
                  {"distro", ""}};
        if (h.facts) {
            host["kernel"] = h.facts->kernel.release.value_or("");
            host["arch"] = h.facts->arch.value_or("");
            host["distro"] = h.facts->os.pretty_name.value_or("");
        }
        hosts.push_back(std::move(host));
    }
    std::map<std::tuple<std::string, std::string, std::string>, Json> rows;
    for (std::size_t hi = 0; hi < report.hosts.size(); ++hi) {
        const HostResult& h = report.hosts[hi];
        for (std::size_t ci = 0; ci < h.checks.size(); ++ci) {
            const ObjectCheck& c = h.checks[ci];
            for (std::size_t pi = 0; pi < c.report.programs.size(); ++pi) {
                const ProgramResult& p = c.report.programs[pi];
                Json& row = rows[{c.artifact, c.object, p.name}];
                if (row.is_null()) {
                    row = Json{{"artifact", c.artifact},
                               {"object", c.object},
                               {"program", p.name},
                               {"cells", Json::object()}};
                }
                const FailureCode code = p.overall_code();
                row["cells"][h.name] =
                    Json{{"verdict", to_string(p.overall())},
                         {"code", code == FailureCode::None ? "" : std::string(to_string(code))},
                         {"insns", p.load.insns_processed ? Json(*p.load.insns_processed) : Json()},
                         {"log", p.load.log && !p.load.log->text.empty()
                                     ? log_file_path(h.name, c.object, p.name)
                                     : std::string()},
                         {"at", {hi, ci, pi}}};
            }
        }
    }
    Json row_list = Json::array();
    for (auto& [key, row] : rows) {
        // a host that has no verdict for the row's artifact: miss
        for (const auto& h : report.hosts) {
            if (!row["cells"].contains(h.name) &&
                missing.count({h.name, row["artifact"].get<std::string>()}) != 0) {
                row["cells"][h.name] = Json{{"verdict", "miss"}, {"code", ""}};
            }
        }
        row_list.push_back(std::move(row));
    }
    Json missing_list = Json::array();
    for (const auto& m : summary.missing) {
        missing_list.push_back(
            Json{{"host", m.host}, {"artifact", m.artifact}, {"reason", m.reason}});
    }
    return Json{{"report", Json(report)},
                {"hosts", hosts},
                {"rows", row_list},
                {"missing", missing_list},
                {"exit_status", report.exit_status()}};
}

} // namespace

std::string report_html(const RunReport& report) {
    // Inside <script type="application/json">: "</" would end the element
    // and "<!--" start a comment: JSON lets "<" be written \u003c.
    std::string data = page_data(report).dump(-1, ' ', false, Json::error_handler_t::replace);
    std::string safe;
    safe.reserve(data.size());
    for (char ch : data) {
        if (ch == '<') {
            safe += "\\u003c";
        } else {
            safe += ch;
        }
    }
    const std::string_view page = kReportHtmlPage;
    const std::size_t at = page.find(kReportHtmlDataMarker);
    return std::string(page.substr(0, at)) + safe +
           std::string(page.substr(at + kReportHtmlDataMarker.size()));
}

} // namespace bpfleet::report
