// Expectations (--expect): the file's mistakes with FILE:LINE, host
// selectors, and the judgement of a report: met, unmet, stale, missing, and
// the exit status that follows.

#include "report/expectations.hpp"
#include "support/sample_reports.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

namespace bpfleet::report {
namespace {

using test::sample_host;
using test::sample_program;
using test::sample_unanswered;

Expectations parsed(const std::string& text) {
    auto e = parse_expectations(text, "expect.toml");
    EXPECT_TRUE(e) << e.error().describe();
    return e ? *e : Expectations{};
}

std::string error_of(const std::string& text) {
    auto e = parse_expectations(text, "expect.toml");
    EXPECT_FALSE(e) << text;
    return e ? std::string() : e.error().context + ": " + e.error().message;
}

// Host "old" (kernel 5.4, tag old) fails p2 with VERIFIER_REJECT; host "new"
// passes both; the artifact is build/probe.bpf.o.
RunReport fleet_report() {
    RunReport r;
    r.artifacts = {"build/probe.bpf.o"};
    auto old_host = sample_host(
        "old", {sample_program("p1", Verdict::Pass), sample_program("p2", Verdict::Fail)});
    old_host.facts->kernel.release = "5.4.0-150-generic";
    old_host.tags = {"old"};
    auto new_host = sample_host(
        "new", {sample_program("p1", Verdict::Pass), sample_program("p2", Verdict::Pass)});
    r.hosts = {old_host, new_host};
    return r;
}

TEST(ExpectationsFile, MistakesNameFileLineAndColumn) {
    EXPECT_EQ(error_of("[[expect]]\nverdict = \"fail\"\nprogramm = \"p\"\n"),
              "expect.toml:3:12: unknown key 'programm' (an [[expect]] takes hosts, artifact, "
              "object, program, stage, verdict, code, reason)");
    EXPECT_EQ(error_of("[[expect]]\nverdict = \"failed\"\n").substr(0, 16), "expect.toml:2:11");
    EXPECT_NE(error_of("[[expect]]\nverdict = \"fail\"\ncode = \"REJECTED\"\n")
                  .find("expect.toml:3:8: 'code' must be a failure code"),
              std::string::npos);
    EXPECT_EQ(error_of("[[expect]]\nhosts = \"tag:x\"\n"),
              "expect.toml:1: this [[expect]] has no 'verdict'");
    EXPECT_NE(error_of("[[expect]]\nverdict = \"pass\"\nhosts = \"colour:red\"\n")
                  .find("expect.toml:3:9: 'hosts': 'colour:red'"),
              std::string::npos);
    EXPECT_NE(error_of("[[expect]]\nverdict = \"miss\"\nprogram = \"p\"\n").find("expect.toml:1"),
              std::string::npos);
    EXPECT_NE(error_of("[rules]\n").find("unknown key 'rules'"), std::string::npos);
    EXPECT_NE(error_of("[[expect]\n").find("expect.toml:1:"), std::string::npos);
    EXPECT_NE(error_of("[[expect]]\nverdict = \"pass\"\nstage = 3\n").find("must be a string"),
              std::string::npos);
    EXPECT_NE(error_of("[[expect]]\nverdict = \"pass\"\nhosts = \"arch:sparc\"\n")
                  .find("not an architecture"),
              std::string::npos);
}

TEST(ExpectationsFile, ARuleThatMatchesNothingIsAnErrorNamingItsLine) {
    auto e = parsed("[[expect]]\nverdict = \"pass\"\n\n[[expect]]\nhosts = \"tag:rpi5\"\n"
                    "verdict = \"fail\"\n");
    const std::vector<HostView> hosts{{"rpi4-01", {"rpi4"}, {}, "", ""}};
    auto checked = check_rules_match(e, hosts, {"x.bpf.o"});
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().context, "expect.toml:4");
    EXPECT_NE(checked.error().message.find("tag:rpi5"), std::string::npos);

    auto artifact = parsed("[[expect]]\nartifact = \"oci:*\"\nverdict = \"miss\"\n");
    EXPECT_FALSE(check_rules_match(artifact, hosts, {"x.bpf.o"}));
    EXPECT_TRUE(check_rules_match(artifact, hosts, {"oci:gadget:v1"}));
    // kernel: and arch: are known only after the run: they can match.
    auto kernel = parsed("[[expect]]\nhosts = \"kernel:5.4*,arch:arm64\"\nverdict = \"pass\"\n");
    EXPECT_TRUE(check_rules_match(kernel, hosts, {"x.bpf.o"}));
}

TEST(HostSelector, TermsOfLimitPlusKernelAndArch) {
    const HostView h{"rpi4-01", {"boards", "rpi4"}, {"lab"}, "6.1.0-21-arm64", "aarch64"};
    auto sel = [&](const std::string& text) {
        auto terms = parse_host_selector(text);
        EXPECT_TRUE(terms) << text;
        return terms && host_selected(*terms, h);
    };
    EXPECT_TRUE(sel(""));
    EXPECT_TRUE(sel("all"));
    EXPECT_TRUE(sel("rpi4-*"));
    EXPECT_FALSE(sel("rpi5-*"));
    EXPECT_TRUE(sel("tag:rpi4"));
    EXPECT_TRUE(sel("group:lab"));
    EXPECT_TRUE(sel("kernel:6.1.*"));
    EXPECT_FALSE(sel("kernel:5.*"));
    EXPECT_TRUE(sel("arch:arm64")); // the OCI spelling of aarch64
    EXPECT_FALSE(sel("arch:x86_64"));
    EXPECT_FALSE(sel("tag:boards,!arch:aarch64"));
    EXPECT_TRUE(sel("!kernel:5.*"));
    EXPECT_FALSE(parse_host_selector("tag:"));
    EXPECT_FALSE(parse_host_selector("a,,b"));
    // '&' intersects, as in --limit (the same parser).
    EXPECT_TRUE(sel("tag:boards,&kernel:6.*"));
    EXPECT_FALSE(sel("tag:boards,&kernel:5.*"));
    EXPECT_TRUE(sel("&arch:arm64,&group:lab"));
    EXPECT_FALSE(sel("&arch:arm64,&group:x86"));
    EXPECT_FALSE(parse_host_selector("&"));
    EXPECT_FALSE(parse_host_selector("bogus:x"));
}

TEST(HostSelector, AtFileReadsNamesRelativeToTheExpectationsFile) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("bpfleet-expect-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "boards.txt") << "# failed last night\nrpi4-*\n\nx86-lts\n";
    std::ofstream(dir / "bad.txt") << "rpi4-01\n!x86-lts\n";
    const HostView rpi{"rpi4-01", {}, {}, "6.1.0", "aarch64"};
    const HostView x86{"x86-new", {}, {}, "6.8.0", "x86_64"};
    const std::string file = (dir / "expect.toml").string();
    auto e = parse_expectations("[[expect]]\nhosts = \"@boards.txt\"\nverdict = \"pass\"\n\n"
                                "[[expect]]\nhosts = \"all,!@boards.txt\"\nverdict = \"pass\"\n",
                                file);
    ASSERT_TRUE(e) << e.error().describe();
    EXPECT_TRUE(host_selected(e->rules[0].hosts, rpi));
    EXPECT_FALSE(host_selected(e->rules[0].hosts, x86));
    EXPECT_FALSE(host_selected(e->rules[1].hosts, rpi));
    EXPECT_TRUE(host_selected(e->rules[1].hosts, x86));
    // A missing file and a signed line: errors naming the expectations file's
    // line and the list file.
    auto missing =
        parse_expectations("[[expect]]\nhosts = \"@absent.txt\"\nverdict = \"pass\"\n", file);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().context, file + ":2:9");
    EXPECT_NE(missing.error().message.find("absent.txt"), std::string::npos)
        << missing.error().message;
    auto bad = parse_expectations("[[expect]]\nhosts = \"@bad.txt\"\nverdict = \"pass\"\n", file);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("bad.txt:2"), std::string::npos) << bad.error().message;
    std::filesystem::remove_all(dir);
}

TEST(Expectations, MetUnmetAndStaleDecideTheExitStatus) {
    RunReport report = fleet_report();
    EXPECT_EQ(report.exit_status(), 1) << "without expectations p2's failure fails the run";

    // Met: p2 is known to fail on old kernels.
    auto met = parsed("[[expect]]\nhosts = \"kernel:5.4*\"\nprogram = \"p2\"\n"
                      "verdict = \"fail\"\ncode = \"VERIFIER_REJECT\"\n"
                      "reason = \"bounded loops need 5.3+ verifier fixes\"\n");
    report.expectations = apply_expectations(met, report);
    ASSERT_EQ(report.expectations->results.size(), 1u);
    const auto& r = report.expectations->results[0];
    EXPECT_EQ(r.outcome, ExpectationOutcome::Met);
    EXPECT_EQ(r.rule, "expect.toml:1");
    EXPECT_EQ(r.host, "old");
    EXPECT_EQ(r.actual_code, FailureCode::VerifierReject);
    EXPECT_EQ(report.exit_status(), 0);

    // Unmet: the wrong code.
    auto unmet = parsed("[[expect]]\nhosts = \"tag:old\"\nprogram = \"p2\"\n"
                        "verdict = \"fail\"\ncode = \"HELPER_UNAVAILABLE\"\n");
    report.expectations = apply_expectations(unmet, report);
    EXPECT_EQ(report.expectations->count(ExpectationOutcome::Unmet), 1);
    EXPECT_EQ(report.exit_status(), 1);

    // Stale: expected to fail everywhere, passes on "new".
    auto stale = parsed("[[expect]]\nprogram = \"p2\"\nverdict = \"fail\"\n");
    report.expectations = apply_expectations(stale, report);
    EXPECT_EQ(report.expectations->count(ExpectationOutcome::Met), 1);
    EXPECT_EQ(report.expectations->count(ExpectationOutcome::Stale), 1);
    EXPECT_EQ(report.exit_status(), 0) << "stale is reported, not a failure";

    // The first matching rule decides: p1 expected to pass, passes.
    auto first = parsed("[[expect]]\nprogram = \"p1\"\nverdict = \"pass\"\n\n"
                        "[[expect]]\nprogram = \"p*\"\nverdict = \"fail\"\nhosts = \"old\"\n");
    report.expectations = apply_expectations(first, report);
    EXPECT_EQ(report.expectations->count(ExpectationOutcome::Met), 3);
    EXPECT_EQ(report.expectations->count(ExpectationOutcome::Unmet), 0);
    EXPECT_EQ(report.exit_status(), 0);

    // A failure no rule covers still fails the run.
    auto other = parsed("[[expect]]\nprogram = \"p1\"\nverdict = \"pass\"\n");
    report.expectations = apply_expectations(other, report);
    EXPECT_EQ(report.exit_status(), 1);
}

TEST(Expectations, AMissIsExpectedOnlyWhereARuleSaysSo) {
    // An arm64-only artifact on an x86_64 host: no object, miss, exit 3.
    RunReport report;
    report.artifacts = {"oci:arm-only:v1"};
    auto h = sample_host("x86", {});
    h.checks.clear();
    report.hosts = {h, sample_unanswered("gone", HostStatus::Unreachable)};
    EXPECT_EQ(report.exit_status(), 3);

    auto opt_out = parsed("[[expect]]\nhosts = \"arch:x86_64\"\nartifact = \"oci:arm-only:*\"\n"
                          "verdict = \"miss\"\nreason = \"arm64 boards only\"\n");
    report.expectations = apply_expectations(opt_out, report);
    ASSERT_EQ(report.expectations->results.size(), 1u) << "the unreachable host's arch is unknown";
    EXPECT_EQ(report.expectations->results[0].outcome, ExpectationOutcome::Met);
    EXPECT_EQ(report.exit_status(), 3) << "the host without an answer is still a miss";

    report.hosts.pop_back();
    report.expectations = apply_expectations(opt_out, report);
    EXPECT_EQ(report.exit_status(), 0) << "the arch is not expected here";

    // The artifact gains an x86 object: the opt-out is stale.
    report.hosts[0] = sample_host("x86", {sample_program("p", Verdict::Pass)});
    report.hosts[0].checks[0].artifact = "oci:arm-only:v1";
    report.expectations = apply_expectations(opt_out, report);
    ASSERT_EQ(report.expectations->results.size(), 1u);
    EXPECT_EQ(report.expectations->results[0].outcome, ExpectationOutcome::Stale);
    EXPECT_EQ(report.exit_status(), 0);
}

TEST(Expectations, RoundTripThroughTheReportsJson) {
    RunReport report = fleet_report();
    auto stale = parsed("[[expect]]\nprogram = \"p2\"\nverdict = \"fail\"\nreason = \"why\"\n");
    report.expectations = apply_expectations(stale, report);
    const Json j = Json(report);
    EXPECT_EQ(j["expectations"]["stale"], 1);
    EXPECT_EQ(j["expectations"]["met"], 1);
    EXPECT_EQ(j["expectations"]["results"][0]["rule"], "expect.toml:1");
    auto back = j["expectations"].get<ExpectationsApplied>();
    EXPECT_EQ(Json(back), j["expectations"]);
}

} // namespace
} // namespace bpfleet::report
