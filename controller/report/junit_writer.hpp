// junit.xml: a run's report for CI engines that read JUnit XML (GitLab's
// test report, Jenkins' junit step). One <testsuite> per host, with its
// kernel, arch and distro as properties; one <testcase> per artifact /
// object / program / stage. A failed stage is a <failure> with its code and
// evidence, host trouble and `miss` an <error>, a skip <skipped> with its
// reason. Valid against the common JUnit schema (tests/fixtures/junit.xsd).
#pragma once

#include "report/output_dir.hpp"
#include "report/report_writer.hpp"

#include <string>

namespace bpfleet::report {

// The document for `report`.
std::string junit_xml(const RunReport& report);

class JunitWriter final : public ReportWriter {
public:
    explicit JunitWriter(OutputDir dir, std::string name = "junit.xml")
        : m_dir(std::move(dir)), m_name(std::move(name)) {}
    Result<void> write(const RunReport& report) override {
        return m_dir.write_file(m_name, junit_xml(report));
    }

private:
    OutputDir m_dir;
    std::string m_name;
};

} // namespace bpfleet::report
