// The run report: what the summary counts, which exit status a run gets, and
// that report.json reads back as the report that was written.

#include "report/json_report.hpp"
#include "report/run_report_builder.hpp"
#include "support/sample_reports.hpp"
#include "support/temp_dir.hpp"

#include <fstream>
#include <gtest/gtest.h>

namespace bpfleet::report {
namespace {

namespace fs = std::filesystem;
using test::sample_host;
using test::sample_program;
using test::sample_unanswered;

RunReport report_of(std::vector<HostResult> hosts, std::string cancelled = "") {
    RunReportBuilder builder({"build/probe.bpf.o"}, "lab.toml");
    std::vector<std::string> order;
    for (const auto& h : hosts) {
        order.push_back(h.name);
    }
    builder.select(order);
    for (auto& h : hosts) {
        builder.add(std::move(h));
    }
    return builder.finish(std::move(cancelled));
}

TEST(RunSummary, CountsHostsByStatusAndProgramsByVerdict) {
    auto report = report_of({
        sample_host("a", {sample_program("p1", Verdict::Pass, Verdict::Pass),
                          sample_program("p2", Verdict::Fail)}),
        // A program counts as skipped when its load was skipped; a skipped
        // attach after a load that passed is still a pass.
        sample_host("b", {sample_program("p1", Verdict::Skip), sample_program("p2", Verdict::Error),
                          sample_program("p3", Verdict::Pass, Verdict::Skip)}),
        sample_unanswered("c", HostStatus::Unreachable),
        sample_unanswered("d", HostStatus::AuthFailed, "auth"),
        sample_unanswered("e", HostStatus::Skipped, "run"),
        sample_unanswered("f", HostStatus::UnsupportedArch, "deploy"),
    });
    auto s = report.summary();
    EXPECT_EQ(s.hosts, 6);
    EXPECT_EQ(s.hosts_ok, 2);
    // Skipped and unsupported_arch hosts are not counted as unanswered.
    EXPECT_EQ(s.hosts_unanswered, 2);
    EXPECT_EQ(s.programs, 5);
    EXPECT_EQ(s.pass, 2);
    EXPECT_EQ(s.fail, 1);
    EXPECT_EQ(s.skip, 1);
    EXPECT_EQ(s.error, 1);
}

TEST(RunSummary, AnObjectThatCannotBeOpenedCountsAsAnError) {
    HostResult h = sample_host("a", {});
    h.checks[0].report.object_error = ObjectError{};
    auto s = report_of({h}).summary();
    EXPECT_EQ(s.programs, 0);
    EXPECT_EQ(s.error, 1);
    EXPECT_EQ(report_of({h}).exit_status(), 1);
}

TEST(RunExitStatus, ZeroOnlyWhenEveryProgramPassed) {
    EXPECT_EQ(exit_code(report_of({sample_host("a", {sample_program("p", Verdict::Pass)})})), 0);
    EXPECT_EQ(exit_code(report_of({sample_host("a", {sample_program("p", Verdict::Fail)})})), 1);
    EXPECT_EQ(exit_code(report_of({sample_host("a", {sample_program("p", Verdict::Error)})})), 1);
}

TEST(RunExitStatus, HostTroubleAloneIsThreeAndAProgramFailureWins) {
    auto ok = sample_host("a", {sample_program("p", Verdict::Pass)});
    auto bad = sample_host("b", {sample_program("p", Verdict::Fail)});
    auto lost = sample_unanswered("c", HostStatus::Timeout, "run");
    EXPECT_EQ(exit_code(report_of({ok, lost})), 3);
    EXPECT_EQ(exit_code(report_of({ok, lost, bad})), 1);
}

// A selected host × artifact pair without a verdict is `miss`, and a run with
// one is never 0: the host was skipped, its architecture has no object in the
// artifact, or it gave no answer.
TEST(RunExitStatus, APairWithoutAVerdictIsMissAndNeverZero) {
    auto ok = sample_host("a", {sample_program("p", Verdict::Pass)});
    EXPECT_EQ(exit_code(report_of({ok, sample_unanswered("d", HostStatus::Skipped, "run")})), 3);
    EXPECT_EQ(
        exit_code(report_of({ok, sample_unanswered("e", HostStatus::UnsupportedArch, "run")})), 3);
    // Every host skipped: nothing was checked.
    EXPECT_EQ(exit_code(report_of({sample_unanswered("d", HostStatus::Skipped, "run")})), 3);
    // A failure still wins.
    auto bad = sample_host("b", {sample_program("p", Verdict::Fail)});
    EXPECT_EQ(exit_code(report_of({bad, sample_unanswered("d", HostStatus::Skipped, "run")})), 1);
}

TEST(RunSummary, ListsEveryMissingPairWithItsReason) {
    // Two artifacts; the host answered but the second has no object for x86_64.
    RunReportBuilder builder({"build/probe.bpf.o", "oci:arm-only:v1"}, "");
    builder.select({"a", "b"});
    builder.add(sample_host("a", {sample_program("p", Verdict::Pass)}));
    builder.add(sample_unanswered("b", HostStatus::Unreachable));
    const RunReport report = builder.finish("");
    const auto s = report.summary();
    EXPECT_FALSE(s.complete());
    ASSERT_EQ(s.miss, 3);
    ASSERT_EQ(s.missing.size(), 3u);
    EXPECT_EQ(s.missing[0].host, "a");
    EXPECT_EQ(s.missing[0].artifact, "oci:arm-only:v1");
    EXPECT_EQ(s.missing[0].reason, "no object for the host's architecture (x86_64)");
    EXPECT_EQ(s.missing[1].host, "b");
    EXPECT_EQ(s.missing[1].artifact, "build/probe.bpf.o");
    EXPECT_EQ(s.missing[1].reason,
              "unreachable (connect): cannot connect to 192.0.2.9:22: Connection refused");
    EXPECT_EQ(s.pass, 1);
    EXPECT_EQ(report.exit_status(), 3);

    const Json j = report;
    EXPECT_EQ(j["summary"]["miss"], 3);
    EXPECT_EQ(j["summary"]["complete"], false);
    EXPECT_EQ(j["summary"]["missing"][0]["artifact"], "oci:arm-only:v1");
    EXPECT_EQ(j["exit_status"], 3);

    auto whole = report_of({sample_host("a", {sample_program("p", Verdict::Pass)})}).summary();
    EXPECT_TRUE(whole.complete());
    EXPECT_EQ(whole.miss, 0);
}

TEST(RunExitStatus, ASignalGivesTheShellsStatus) {
    auto ok = sample_host("a", {sample_program("p", Verdict::Pass)});
    EXPECT_EQ(exit_code(report_of({ok}, "SIGINT")), 130);
    EXPECT_EQ(exit_code(report_of({ok}, "SIGTERM")), 143);
}

// report.json said "exit_status": 0 and "hosts_unanswered": 0 for a run that
// SIGTERM cut short (bpfleet itself exited 143).
TEST(RunExitStatus, ACancelledReportSaysSoAndCountsTheHostsItNeverHeard) {
    auto ok = sample_host("a", {sample_program("p", Verdict::Pass)});
    auto cut = sample_unanswered("b", HostStatus::Skipped, "run");
    const RunReport report = report_of({ok, cut}, "SIGTERM");
    const Json j = Json(report);
    EXPECT_EQ(j["exit_status"], 143);
    EXPECT_EQ(j["summary"]["hosts_unanswered"], 1);
    auto back = parse_run_report(j.dump());
    ASSERT_TRUE(back) << back.error().describe();
    EXPECT_EQ(back->exit_status(), 143);
}

TEST(RunReportBuilder, ListsSelectedHostsInSelectionOrderAndTheLastResultWins) {
    RunReportBuilder builder({"x.bpf.o"}, "");
    builder.select({"b", "a", "c"});
    builder.add(sample_unanswered("a", HostStatus::Unreachable));
    builder.add(sample_host("b", {}));
    builder.add(sample_host("not-selected", {}));
    builder.add(sample_host("a", {sample_program("p", Verdict::Pass)}));
    EXPECT_TRUE(builder.has("a"));
    EXPECT_FALSE(builder.has("c"));
    auto report = builder.finish("");
    ASSERT_EQ(report.hosts.size(), 2u); // c never answered, not-selected is not selected
    EXPECT_EQ(report.hosts[0].name, "b");
    EXPECT_EQ(report.hosts[1].name, "a");
    EXPECT_EQ(report.hosts[1].status, HostStatus::Ok);
    EXPECT_EQ(report.artifacts, std::vector<std::string>{"x.bpf.o"});
    EXPECT_FALSE(report.started.empty());
    EXPECT_FALSE(report.finished.empty());
    EXPECT_GE(report.duration_ms, 0.0);
}

TEST(JsonReport, RoundTripsThroughReportJson) {
    test::TempDir dir;
    auto report = report_of({
        sample_host("a", {sample_program("p1", Verdict::Pass, Verdict::Pass),
                          sample_program("p2", Verdict::Fail)}),
        sample_unanswered("b", HostStatus::HostkeyMismatch, "hostkey"),
    });
    auto out = OutputDir::open(dir.path());
    ASSERT_TRUE(out) << out.error().describe();
    JsonReportWriter writer(*out);
    ASSERT_TRUE(writer.write(report));

    auto back = read_run_report(dir / "report.json");
    ASSERT_TRUE(back) << back.error().describe();
    // The same document again, summary and exit status included.
    EXPECT_EQ(Json(*back), Json(report));
    EXPECT_EQ(back->exit_status(), 1);
    ASSERT_EQ(back->hosts.size(), 2u);
    ASSERT_TRUE(back->hosts[0].checks[0].report.programs[1].load.log);
    EXPECT_EQ(back->hosts[0].checks[0].report.programs[1].load.log->text,
              report.hosts[0].checks[0].report.programs[1].load.log->text);
    EXPECT_EQ(back->hosts[1].status, HostStatus::HostkeyMismatch);

    const Json written = Json::parse(std::ifstream(dir / "report.json"));
    EXPECT_EQ(written["schema"], "bpfleet.run/v1");
    EXPECT_EQ(written["exit_status"], 1);
    EXPECT_EQ(written["summary"]["hosts_unanswered"], 1);
    // Written through a temp file and rename: nothing else is left.
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator{}), 1);
}

TEST(JsonReport, CarriesTheRunsMetadataAndEachHostsTagsGroupsAndVars) {
    test::TempDir dir;
    auto report = report_of({sample_host("a", {sample_program("p1", Verdict::Pass)})});
    report.run.identity.id = new_run_id();
    report.run.identity.artifacts.push_back({"build/probe.bpf.o", "", {{"", "probe.bpf.o", ""}}});
    report.run.identity.options = Json{{"load_only", true}};
    report.run.bpfleet_version = "0.1.0";
    report.run.command_line = {"bpfleet", "run", "--creds", "<hidden>"};
    report.run.shard = "2/3";
    report.hosts[0].tags = {"arm64", "lab"};
    report.hosts[0].groups = {"boards"};
    report.hosts[0].vars = Json{{"rack", "B2"}, {"slots", {1, 2}}};
    auto out = OutputDir::open(dir.path());
    ASSERT_TRUE(out) << out.error().describe();
    ASSERT_TRUE(JsonReportWriter(*out).write(report));

    const Json written = Json::parse(std::ifstream(dir / "report.json"));
    EXPECT_EQ(written["run"]["id"], report.run.identity.id);
    EXPECT_EQ(written["run"]["mode"], "run");
    EXPECT_EQ(written["run"]["options"]["load_only"], true);
    EXPECT_EQ(written["run"]["command_line"][3], "<hidden>");
    EXPECT_EQ(written["run"]["shard"], "2/3");
    EXPECT_EQ(written["hosts"][0]["tags"], Json({"arm64", "lab"}));
    EXPECT_EQ(written["hosts"][0]["vars"]["rack"], "B2");
    auto back = read_run_report(dir / "report.json");
    ASSERT_TRUE(back) << back.error().describe();
    EXPECT_EQ(Json(*back), Json(report));
    EXPECT_EQ(back->hosts[0].groups, std::vector<std::string>{"boards"});
    // Two ids made one after the other differ.
    EXPECT_NE(new_run_id(), new_run_id());
}

TEST(JsonReport, RefusesWhatIsNotARunReport) {
    EXPECT_FALSE(parse_run_report("not json"));
    EXPECT_FALSE(parse_run_report(R"({"schema":"bpfleet.check/v1"})"));
    EXPECT_FALSE(parse_run_report(R"({"schema":"bpfleet.run/v1","hosts":[{"name":"a"}]})"));
    EXPECT_FALSE(
        parse_run_report(R"({"schema":"bpfleet.run/v1","hosts":[{"name":"a","status":"fine"}]})"));
    EXPECT_FALSE(parse_run_report(std::string(10000, '[') + std::string(10000, ']')));
    auto empty = parse_run_report(R"({"schema":"bpfleet.run/v1","hosts":[]})");
    ASSERT_TRUE(empty) << empty.error().describe();
    EXPECT_TRUE(empty->hosts.empty());

    auto missing = read_run_report("/nonexistent/report.json");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().context, "/nonexistent/report.json");
}

} // namespace
} // namespace bpfleet::report
