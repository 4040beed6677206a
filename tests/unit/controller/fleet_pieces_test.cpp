// Small pure pieces of the fleet runner: shell quoting, the agent catalog,
// the one-line host summary.

#include "fleet/deploy.hpp"
#include "fleet/progress.hpp"
#include "fleet/shell_quote.hpp"

#include <gtest/gtest.h>

namespace bpfleet::fleet {
namespace {

TEST(ShellQuote, SurvivesEveryAwkwardCharacter) {
    EXPECT_EQ(shell_quote("plain"), "'plain'");
    EXPECT_EQ(shell_quote(""), "''");
    EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
    EXPECT_EQ(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
}

TEST(ShellQuote, RoundTripsThroughARealShell) {
    const std::string word = "a b'c\"d$e`f\\g\nh";
    std::string cmd = "printf %s " + shell_quote(word);
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[256];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        out.append(buf, n);
    }
    pclose(p);
    EXPECT_EQ(out, word);
}

TEST(AgentCatalog, AGivenPathThatCannotBeReadIsAnError) {
    auto c = AgentCatalog::load({{"aarch64", "/nonexistent/agent"}});
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().context, "/nonexistent/agent");
}

TEST(AgentCatalog, HashesTheGivenAgent) {
    auto c = AgentCatalog::load({{"x86_64", BPFLEET_AGENT_PATH}});
    ASSERT_TRUE(c) << c.error().describe();
    const AgentBinary* a = c->find("x86_64");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->sha256.size(), 64u);
    EXPECT_GT(a->bytes->size(), 0u);
    EXPECT_EQ(c->find("amd64"), a);
}

TEST(AgentCatalog, KnowsTheArmhfAgentByEveryName) {
    auto c = AgentCatalog::load({{"armhf", BPFLEET_AGENT_PATH}});
    ASSERT_TRUE(c) << c.error().describe();
    const AgentBinary* a = c->find("armv7l");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->arch, "armv7l");
    EXPECT_EQ(c->find("arm"), a);
    EXPECT_EQ(c->find("armv8l"), a);
    EXPECT_NE(c->available().find("armv7l"), std::string::npos);
}

TEST(HostSummary, SaysStatusStageAndError) {
    HostResult r;
    r.name = "h";
    r.status = HostStatus::Unreachable;
    r.stage = "connect";
    r.error = "refused";
    r.duration_ms = 1500;
    EXPECT_EQ(host_summary(r), "unreachable (connect): refused (1.50 s)");
}

TEST(HostSummary, CountsProgramsAndRetries) {
    HostResult r;
    r.attempts = 2;
    ObjectCheck c;
    ProgramResult ok;
    ok.load.verdict = Verdict::Pass;
    ProgramResult bad;
    bad.load.verdict = Verdict::Fail;
    c.report.programs = {ok, bad};
    r.checks.push_back(c);
    EXPECT_EQ(host_summary(r), "ok, 2 program(s): 1 pass, 1 fail, after 2 attempts (0.00 s)");
}

} // namespace
} // namespace bpfleet::fleet
