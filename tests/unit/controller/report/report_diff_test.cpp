// report diff / run --baseline: regressions, improvements, code changes, new
// and vanished hosts and programs, and two reports that cannot be compared.

#include "model/report_diff.hpp"
#include "support/sample_reports.hpp"

#include <gtest/gtest.h>

namespace bpfleet {
namespace {

using test::sample_host;
using test::sample_program;
using test::sample_unanswered;

RunReport report_of(std::vector<HostResult> hosts) {
    RunReport r;
    r.artifacts = {"build/probe.bpf.o"};
    r.hosts = std::move(hosts);
    return r;
}

ReportDiff diff_of(const RunReport& a, const RunReport& b) {
    auto d = diff_reports(a, b, "old.json", "new.json");
    EXPECT_TRUE(d) << d.error().describe();
    return d ? *d : ReportDiff{};
}

TEST(ReportDiff, SortsEveryChangeIntoItsKind) {
    const auto old_report = report_of({
        sample_host("a",
                    {sample_program("p1", Verdict::Pass), sample_program("p2", Verdict::Fail),
                     sample_program("p3", Verdict::Pass), sample_program("gone", Verdict::Pass)}),
        sample_host("b", {sample_program("p1", Verdict::Pass)}),
        sample_host("old-only", {sample_program("p1", Verdict::Pass)}),
    });
    auto a = sample_host(
        "a", {sample_program("p1", Verdict::Fail), sample_program("p2", Verdict::Pass),
              sample_program("p3", Verdict::Pass), sample_program("fresh", Verdict::Pass)});
    const auto new_report = report_of({
        a,
        sample_unanswered("b", HostStatus::Unreachable),
        sample_host("new-only", {sample_program("p1", Verdict::Pass)}),
    });
    const ReportDiff d = diff_of(old_report, new_report);
    ASSERT_EQ(d.regressions.size(), 2u);
    EXPECT_EQ(d.regressions[0].host, "a");
    EXPECT_EQ(d.regressions[0].program, "p1");
    EXPECT_EQ(d.regressions[0].new_code, FailureCode::VerifierReject);
    EXPECT_EQ(d.regressions[1].host, "b") << "a host without an answer: its programs are miss";
    EXPECT_EQ(d.regressions[1].new_verdict, Verdict::Miss);
    ASSERT_EQ(d.improvements.size(), 1u);
    EXPECT_EQ(d.improvements[0].program, "p2");
    EXPECT_EQ(d.new_hosts, std::vector<std::string>{"new-only"});
    EXPECT_EQ(d.vanished_hosts, std::vector<std::string>{"old-only"});
    ASSERT_EQ(d.new_programs.size(), 1u);
    EXPECT_EQ(d.new_programs[0].program, "fresh");
    ASSERT_EQ(d.vanished_programs.size(), 1u);
    EXPECT_EQ(d.vanished_programs[0].program, "gone");
    EXPECT_EQ(d.unchanged, 1);
    EXPECT_TRUE(d.regressed());

    // The JSON form reads back to the same diff.
    const Json j = Json(d);
    EXPECT_EQ(j["schema"], "bpfleet.diff/v1");
    EXPECT_EQ(j["counts"]["regressions"], 2);
    EXPECT_EQ(Json(j.get<ReportDiff>()), j);
    const std::string text = diff_text(d);
    EXPECT_NE(text.find("regressions (2):\n  a  build/probe.bpf.o  probe.bpf.o  p1: pass -> fail "
                        "VERIFIER_REJECT\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("vanished hosts (1): old-only\n"), std::string::npos) << text;
}

TEST(ReportDiff, ACodeChangeIsNotARegressionAndTheRunSaysSo) {
    auto old_host = sample_host("a", {sample_program("p", Verdict::Fail)});
    auto new_host = old_host;
    new_host.checks[0].report.programs[0].load.code = FailureCode::HelperUnavailable;
    auto report = report_of({new_host});
    const ReportDiff d = diff_of(report_of({old_host}), report);
    EXPECT_FALSE(d.regressed());
    ASSERT_EQ(d.code_changes.size(), 1u);
    EXPECT_EQ(d.code_changes[0].old_code, FailureCode::VerifierReject);

    // run --baseline: a regression is exit 1 even when nothing else fails.
    auto passing = report_of({sample_host("a", {sample_program("p", Verdict::Pass)})});
    auto dropped = report_of({sample_unanswered("a", HostStatus::Timeout)});
    EXPECT_EQ(dropped.exit_status(), 3);
    dropped.baseline = diff_of(passing, dropped);
    EXPECT_EQ(dropped.exit_status(), 1);
}

TEST(ReportDiff, RefusesTwoRunsThatCannotBeCompared) {
    auto a = report_of({sample_host("a", {sample_program("p", Verdict::Pass)})});
    auto other_artifact = a;
    other_artifact.artifacts = {"build/other.bpf.o"};
    auto d = diff_reports(a, other_artifact, "old.json", "new.json");
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().message.find("no -a artifact in common"), std::string::npos);
    EXPECT_EQ(d.error().context, "new.json");

    auto probe = a;
    probe.run.identity.mode = "probe";
    EXPECT_FALSE(diff_reports(a, probe, "old.json", "new.json"));

    auto other_hosts = report_of({sample_host("z", {sample_program("p", Verdict::Pass)})});
    auto hosts = diff_reports(a, other_hosts, "old.json", "new.json");
    ASSERT_FALSE(hosts);
    EXPECT_NE(hosts.error().message.find("no host in common"), std::string::npos);
}

} // namespace
} // namespace bpfleet
