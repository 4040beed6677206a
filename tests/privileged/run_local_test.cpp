// `bpfleet run` without an inventory: the local transport, the real agent,
// real loads; the report, the journal, the per-host files and the exit codes.

#include "model/run_report.hpp"
#include "privileged/agent_runner.hpp"
#include "protocol/messages.hpp"
#include "support/require.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/wait.h>

namespace bpfleet::test {
namespace {

namespace fs = std::filesystem;

struct CliRun {
    int status = -1;
    std::string out;
};

CliRun bpfleet(const std::string& args, const std::string& env = {}) {
    std::string cmd = env + std::string(BPFLEET_CONTROLLER_PATH) + " " + args + " 2>&1";
    CliRun r;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        r.out.append(buf, n);
    }
    int status = pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

Json read_json(const fs::path& p) {
    std::ifstream in(p);
    return Json::parse(in);
}

class RunLocal : public ::testing::Test {
protected:
    fs::path m_out = fs::temp_directory_path() / ("bpfleet-run-" + std::to_string(getpid()));
    void SetUp() override {
        BPFLEET_REQUIRE(is_root(), "loading BPF programs needs root");
        BPFLEET_REQUIRE(bpf_available(), "the kernel refuses BPF programs here");
        fs::remove_all(m_out);
    }
    void TearDown() override { fs::remove_all(m_out); }
    std::string agent_arg() const { return std::string(" --agent ") + BPFLEET_AGENT_PATH; }
};

TEST_F(RunLocal, ChecksEveryArtifactAndWritesTheReports) {
    auto r = bpfleet("run -a " + test_object("mixed") + " -a " + test_object("five_kinds") +
                     " -o " + m_out.string() + agent_arg());
    EXPECT_EQ(r.status, 1) << r.out << "\n(one program fails: exit 1)";
    EXPECT_NE(r.out.find("bad_unchecked"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("VERIFIER_REJECT"), std::string::npos) << r.out;
    auto report = read_json(m_out / "report.json");
    EXPECT_EQ(report["schema"], "bpfleet.run/v1");
    ASSERT_EQ(report["hosts"].size(), 1u);
    const auto& host = report["hosts"][0];
    EXPECT_EQ(host["status"], "ok");
    EXPECT_EQ(host["transport"], "local");
    ASSERT_EQ(host["checks"].size(), 2u);
    EXPECT_EQ(host["checks"][1]["report"]["summary"]["pass"], 5);
    EXPECT_EQ(host["checks"][0]["object_sha256"].get<std::string>().size(), 64u);
    EXPECT_EQ(report["summary"]["fail"], 1);
    EXPECT_TRUE(host["facts"].contains("arch"));
    EXPECT_TRUE(fs::exists(m_out / "hosts/localhost/facts.json"));
    EXPECT_TRUE(fs::exists(m_out / "hosts/localhost/logs/mixed.bpf.o.bad_unchecked.log"));
    std::ifstream journal(m_out / "journal.jsonl");
    std::string line;
    ASSERT_TRUE(std::getline(journal, line));
    EXPECT_EQ(Json::parse(line)["schema"], "bpfleet.journal/v1") << line.substr(0, 200);
    int lines = 0;
    while (std::getline(journal, line)) {
        ++lines;
        EXPECT_TRUE(parse_host_result(line)) << line.substr(0, 200);
    }
    EXPECT_EQ(lines, 1);
}

TEST_F(RunLocal, AllPassingIsExitZero) {
    auto r =
        bpfleet("run -q -a " + test_object("five_kinds") + " -o " + m_out.string() + agent_arg());
    EXPECT_EQ(r.status, 0) << r.out;
    // The check's own time comes back through `bpfleet-agent serve` (it was 0).
    auto report = read_json(m_out / "report.json");
    ASSERT_EQ(report["hosts"][0]["checks"].size(), 1u) << r.out;
    EXPECT_GT(report["hosts"][0]["checks"][0]["report"].value("duration_ms", 0.0), 0.0)
        << report["hosts"][0]["checks"][0]["report"].dump().substr(0, 500);
    EXPECT_EQ(report["summary"]["complete"], true);
}

TEST_F(RunLocal, ResumeSkipsHostsInTheJournal) {
    auto first =
        bpfleet("run -q -a " + test_object("five_kinds") + " -o " + m_out.string() + agent_arg());
    ASSERT_EQ(first.status, 0) << first.out;
    auto second = bpfleet("run -a " + test_object("five_kinds") + " -o " + m_out.string() +
                          " --resume " + (m_out / "journal.jsonl").string() + agent_arg());
    EXPECT_EQ(second.status, 0) << second.out;
    EXPECT_NE(second.out.find("already in the journal"), std::string::npos) << second.out;
}

// The finding: --resume with other artifacts mixed two runs' results.
TEST_F(RunLocal, ResumeRefusesTheJournalOfAnotherRun) {
    auto first =
        bpfleet("run -q -a " + test_object("five_kinds") + " -o " + m_out.string() + agent_arg());
    ASSERT_EQ(first.status, 0) << first.out;
    const fs::path journal = m_out / "journal.jsonl";
    std::ifstream in(journal);
    const std::string before(std::istreambuf_iterator<char>(in), {});
    const fs::path other = m_out.string() + "-other";
    auto second = bpfleet("run -a " + test_object("pass") + " -o " + other.string() + " --resume " +
                          journal.string() + agent_arg());
    fs::remove_all(other);
    EXPECT_EQ(second.status, 2) << second.out;
    EXPECT_NE(second.out.find(journal.string()), std::string::npos) << second.out;
    EXPECT_NE(second.out.find("the journal is of another run: its artifacts are"),
              std::string::npos)
        << second.out;
    std::ifstream again(journal);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(again), {}), before);
    // Another option that shapes verdicts is another run too.
    auto third = bpfleet("run -a " + test_object("five_kinds") + " -o " + m_out.string() +
                         " --load-only --resume " + journal.string() + agent_arg());
    EXPECT_EQ(third.status, 2) << third.out;
    EXPECT_NE(third.out.find("option load_only is now true, it was false"), std::string::npos)
        << third.out;
}

TEST_F(RunLocal, BadArtifactIsExitTwoAndNamesIt) {
    auto r = bpfleet("run -a /nonexistent/x.bpf.o -o " + m_out.string() + agent_arg());
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find("/nonexistent/x.bpf.o"), std::string::npos) << r.out;
}

TEST_F(RunLocal, AgentPathThatCannotBeReadIsAUsageError) {
    auto r = bpfleet("run -a " + test_object("five_kinds") + " -o " + m_out.string() +
                     " --agent /nonexistent/bpfleet-agent");
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find("/nonexistent/bpfleet-agent"), std::string::npos) << r.out;
}

TEST_F(RunLocal, NoAgentAtAllIsAHostErrorNotACrash) {
    // $BPFLEET_AGENT wins over the build tree; pointing it nowhere leaves no agent.
    auto r =
        bpfleet("run -a " + test_object("five_kinds") + " -o " + m_out.string(),
                "BPFLEET_AGENT=/nonexistent/bpfleet-agent BPFLEET_AGENT_X86_64=/nonexistent/a ");
    auto report = read_json(m_out / "report.json");
    EXPECT_EQ(report["hosts"][0]["status"], "agent_error") << r.out;
    EXPECT_EQ(report["hosts"][0]["stage"], "deploy");
    EXPECT_EQ(report["exit_status"], 3) << "(host trouble only: exit 3)";
}

// A typo in a fixups file is the user's mistake, found once before any host
// is contacted (exit 2, file:line:column), not a LOADER_CONTRACT row on every
// host that parses it.
TEST_F(RunLocal, AFixupsFileWithATypoIsExitTwoBeforeAnyHostIsContacted) {
    const fs::path fixups = m_out.string() + "-typo.toml";
    std::ofstream(fixups) << "# for pass.bpf.o\n[program.xdp_pass]\ntype = \"xdp\"\n";
    auto r = bpfleet("run -a " + test_object("pass") + " -o " + m_out.string() + " --fixups " +
                     fixups.string() + agent_arg());
    fs::remove(fixups);
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find(fixups.string() + ":2:1: unknown table 'program'"), std::string::npos)
        << r.out;
    EXPECT_FALSE(fs::exists(m_out / "report.json")) << "no host was to be contacted";
    EXPECT_FALSE(fs::exists(m_out / "hosts"));

    std::ofstream(fixups) << "[maps.sized]\nmax_entries = -1\n";
    r = bpfleet("run -a " + test_object("pass") + " -o " + m_out.string() + " --fixups " +
                fixups.string() + agent_arg());
    fs::remove(fixups);
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find(fixups.string() + ":2:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("must be an integer from 0 to 4294967295"), std::string::npos) << r.out;

    r = bpfleet("run -a " + test_object("pass") + " -o " + m_out.string() +
                " --fixups /nonexistent/fixups.toml" + agent_arg());
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find("/nonexistent/fixups.toml"), std::string::npos) << r.out;
}

// A good fixups file reaches the host as checked rules, named by the file
// they came from.
TEST_F(RunLocal, AFixupsFileReachesTheHostAsRules) {
    const fs::path fixups = m_out.string() + "-rules.toml";
    std::ofstream(fixups) << "[maps.sized]\nmax_entries = 16\n";
    auto r = bpfleet("run -a " + test_object("zero_sized_maps") + " -o " + m_out.string() +
                     " --load-only --fixups " + fixups.string() + agent_arg());
    fs::remove(fixups);
    auto report = read_json(m_out / "report.json");
    ASSERT_EQ(report["hosts"][0]["checks"].size(), 1u) << r.out;
    const Json& check = report["hosts"][0]["checks"][0]["report"];
    EXPECT_TRUE(check["error"].is_null()) << check["error"].dump();
    bool found = false;
    for (const auto& f : check["fixups"]) {
        if (f["target"] == "sized") {
            found = true;
            EXPECT_EQ(f["to"], "16");
            EXPECT_EQ(f["source"], "fixups_file");
            EXPECT_EQ(f["reason"], "set in " + fixups.string());
        }
    }
    EXPECT_TRUE(found) << check["fixups"].dump();
}

// Names in an agent's answer are not trusted as paths: a program called
// "../../escaped" still gets its verifier log inside hosts/NAME/logs/.
TEST_F(RunLocal, VerifierLogNamesFromTheAgentStayInsideTheHostFolder) {
    fs::create_directories(m_out);
    CheckReport report;
    ProgramResult p;
    p.name = "../../escaped";
    p.load.verdict = Verdict::Fail;
    p.load.code = FailureCode::VerifierReject;
    p.load.log = VerifierLog{"0: R1 invalid mem access 'scalar'\n", 34, false, 2};
    report.programs.push_back(p);
    const fs::path replies = m_out.parent_path() / (m_out.filename().string() + "-replies.jsonl");
    protocol::Hello hello;
    hello.agent = AgentInfo{"t", "1.1", "x86_64"};
    hello.build_id = "0123";
    hello.kernel = KernelInfo{"6.1.0", "x86_64"};
    HostFacts facts;
    facts.arch = "x86_64";
    std::ofstream(replies) << protocol::encode(hello)
                           << protocol::encode(protocol::ProbeReply{facts})
                           << protocol::encode(protocol::CheckReply{1, report})
                           << protocol::encode(protocol::Bye{});
    // An "agent" that answers from the file and reads what it is sent.
    const fs::path fake = m_out.parent_path() / (m_out.filename().string() + "-agent.sh");
    std::ofstream(fake) << "#!/bin/sh\ncat " << replies.string() << "\nexec cat >/dev/null\n";
    fs::permissions(fake, fs::perms::owner_all);
    const fs::path out = m_out / "out";
    auto r = bpfleet("run -a " + test_object("pass") + " -o " + out.string() + " --agent " +
                     fake.string());
    fs::remove(fake);
    fs::remove(replies);
    EXPECT_EQ(r.status, 1) << r.out << "\n(a failed program: exit 1)";
    const fs::path log = out / "hosts/localhost/logs/pass.bpf.o._.._.._escaped.log";
    EXPECT_TRUE(fs::exists(log)) << r.out;
    std::ifstream in(log);
    std::string text;
    std::getline(in, text);
    EXPECT_EQ(text, "0: R1 invalid mem access 'scalar'");
    EXPECT_FALSE(fs::exists(out / "hosts/escaped.log"));
    EXPECT_FALSE(fs::exists(out / "escaped.log"));
}

TEST_F(RunLocal, InventoryHostOnTheLocalTransport) {
    const fs::path inv = m_out.parent_path() / (m_out.filename().string() + "-inventory.toml");
    std::ofstream(inv) << "[hosts.here]\ntransport = \"local\"\ntags = [\"self\"]\n";
    auto r = bpfleet("run -q -i " + inv.string() + " --limit tag:self -a " +
                     test_object("five_kinds") + " -o " + m_out.string() + agent_arg());
    fs::remove(inv);
    EXPECT_EQ(r.status, 0) << r.out;
    auto report = read_json(m_out / "report.json");
    ASSERT_EQ(report["hosts"].size(), 1u);
    EXPECT_EQ(report["hosts"][0]["name"], "here");
    EXPECT_EQ(report["hosts"][0]["transport"], "local");
    EXPECT_EQ(report["hosts"][0]["status"], "ok");
    EXPECT_EQ(report["hosts"][0]["checks"][0]["report"]["programs"].size(), 5u);
}

TEST_F(RunLocal, ProbeRecordsFactsAndChecksNothing) {
    auto r = bpfleet("probe -o " + m_out.string() + agent_arg());
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("localhost"), std::string::npos) << r.out;
    auto report = read_json(m_out / "report.json");
    EXPECT_EQ(report["hosts"][0]["status"], "ok");
    EXPECT_TRUE(report["hosts"][0]["checks"].empty());
    auto facts = read_json(m_out / "hosts/localhost/facts.json");
    EXPECT_EQ(facts["schema"], "bpfleet.probe/v1");
    EXPECT_TRUE(facts["kernel"].contains("release"));
}

} // namespace
} // namespace bpfleet::test
