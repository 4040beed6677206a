// RunReportBuilder: collects the host results of one run (those resumed from
// a journal and those that just finished, in any order) and makes the
// finished RunReport: hosts in the order they were selected, the run's times,
// why it was cut short. The writers (report_writer.hpp) render that report.
//
// Plain values, no I/O; not thread-safe (the runner calls back on its one
// thread).
#pragma once

#include "model/run_report.hpp"

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bpfleet::report {

class RunReportBuilder {
public:
    // The run starts now: `started` and the duration count from here.
    RunReportBuilder(std::vector<std::string> artifacts, std::string inventory);

    // The selected hosts, in the order the report lists them. A result for a
    // host that is not selected is kept out of the report.
    void select(std::vector<std::string> host_names);
    // What the report says about the run itself (report.json's `run`).
    void set_run(RunInfo run) { m_report.run = std::move(run); }
    // A host's result; a second one for the same host replaces the first.
    void add(HostResult host);
    [[nodiscard]] bool has(const std::string& host_name) const;

    // The report, with `cancelled` ("SIGINT"/"SIGTERM", or "") and the
    // finish time. Selected hosts without a result are left out (a run
    // that was cancelled reports them as skipped through add()).
    [[nodiscard]] RunReport finish(std::string cancelled);

private:
    RunReport m_report;
    std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
    std::vector<std::string> m_order;
    std::map<std::string, HostResult> m_hosts;
};

// The process exit status for a finished run (docs/cli.md): 130 and 143 when
// SIGINT or SIGTERM cut it short, else the report's own (0, 1 or 3).
int exit_code(const RunReport& report);

// The current time as RFC 3339 UTC ("2024-05-01T12:00:00Z").
std::string now_rfc3339();

} // namespace bpfleet::report
