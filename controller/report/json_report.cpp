#include "report/json_report.hpp"

#include "common/json_depth.hpp"

#include <fstream>
#include <sstream>

namespace bpfleet::report {

namespace {

// As deep as the bpfleet.run/v1 documents bpfleet writes, with room to spare.
constexpr int kMaxDepth = 64;

} // namespace

Result<void> JsonReportWriter::write(const RunReport& report) {
    return m_dir.write_file(m_name, Json(report).dump(2) + "\n");
}

Result<RunReport> parse_run_report(std::string_view text) {
    if (!json_depth_within(text, kMaxDepth)) {
        return make_error("report", "nested more than " + std::to_string(kMaxDepth) +
                                        " levels deep: not a bpfleet report");
    }
    try {
        const Json j = Json::parse(text);
        if (!j.is_object() || j.value("schema", std::string()) != kRunSchema) {
            return make_error("report", "not a " + std::string(kRunSchema) + " document");
        }
        RunReport report;
        if (auto run = j.find("run"); run != j.end()) { // absent in early v1 reports
            report.run = run->get<RunInfo>();
        }
        report.started = j.value("started", std::string());
        report.finished = j.value("finished", std::string());
        report.inventory = j.value("inventory", std::string());
        report.cancelled = j.value("cancelled", std::string());
        report.duration_ms = j.value("duration_ms", 0.0);
        report.artifacts = j.value("artifacts", std::vector<std::string>{});
        report.hosts = j.value("hosts", std::vector<HostResult>{});
        if (auto e = j.find("expectations"); e != j.end()) {
            report.expectations = e->get<ExpectationsApplied>();
        }
        if (auto b = j.find("baseline"); b != j.end()) {
            report.baseline = b->get<ReportDiff>();
        }
        return report;
    } catch (const std::exception& e) {
        return make_error("report", std::string("not a bpfleet report: ") + e.what());
    }
}

Result<RunReport> read_run_report(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return make_error("report", "cannot read the report", errno, path.string());
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto report = parse_run_report(text.str());
    if (!report) {
        Error e = report.error();
        e.context = path.string();
        return tl::unexpected(e);
    }
    return report;
}

} // namespace bpfleet::report
