#include "report/run_report_builder.hpp"

#include <ctime>
#include <utility>

namespace bpfleet::report {

std::string now_rfc3339() {
    std::time_t t = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buf;
}

RunReportBuilder::RunReportBuilder(std::vector<std::string> artifacts, std::string inventory) {
    m_report.started = now_rfc3339();
    m_report.artifacts = std::move(artifacts);
    m_report.inventory = std::move(inventory);
}

void RunReportBuilder::select(std::vector<std::string> host_names) {
    m_order = std::move(host_names);
}

void RunReportBuilder::add(HostResult host) {
    std::string name = host.name;
    m_hosts.insert_or_assign(std::move(name), std::move(host));
}

bool RunReportBuilder::has(const std::string& host_name) const {
    return m_hosts.count(host_name) != 0;
}

RunReport RunReportBuilder::finish(std::string cancelled) {
    RunReport report = m_report;
    report.cancelled = std::move(cancelled);
    report.hosts.clear();
    for (const auto& name : m_order) {
        if (auto it = m_hosts.find(name); it != m_hosts.end()) {
            report.hosts.push_back(it->second);
        }
    }
    report.finished = now_rfc3339();
    report.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - m_started)
            .count();
    return report;
}

int exit_code(const RunReport& report) {
    return report.exit_status();
}

} // namespace bpfleet::report
