// `bpfleet run`'s exit status, the table of docs/cli.md case by case, over
// real SSH with the real agent: 0, 1, 2, 3 (a host without an answer, an
// artifact without an object for the host's architecture), the same under
// --expect (the opt-out is 0, an unexpected miss 3, an unmet rule 1), 130
// and 143 (every host skipped).
// A selected host × artifact pair without a verdict is `miss` in the report
// and never exit 0.

#include "ssh/ssh_run_fixture.hpp"

#include <chrono>
#include <csignal>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <thread>

namespace bpfleet::test {
namespace {

using namespace std::chrono_literals;

class ExitStatus : public SshRun {
protected:
    // An OCI layout whose only manifest is for arm64 (tag v1).
    fs::path arm64_only_layout() const {
        const fs::path dir = this->dir() / "arm64-only";
        LayoutBuilder b(dir);
        auto arm = b.add_gadget_manifest(GadgetParts{arm64_object()});
        b.add_ref(b.add_index({{arm, "arm64"}}), "v1");
        b.write_index_json();
        return dir;
    }
};

// 0: every pair checked, every program passed.
TEST_F(ExitStatus, ZeroWhenEveryPairPassed) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    auto r = run(inventory({host("host-a", *a)}), {"pass"});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    LOAD_REPORT(rep, {}, r);
    EXPECT_EQ(rep["summary"].value("complete", false), true) << rep["summary"].dump();
    EXPECT_EQ(rep["summary"].value("miss", -1), 0) << rep["summary"].dump();
    EXPECT_NE(r.out.find("; 0 miss"), std::string::npos) << r.describe();
}

// 1: a program failed (and a failure wins over host trouble).
TEST_F(ExitStatus, OneWhenAProgramFails) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    HostSpec closed;
    closed.name = "host-closed";
    closed.port = free_port();
    closed.identity_files = {m_key.private_key};
    closed.connect_timeout = 2;
    BPFLEET_REQUIRE(bpf_usable(), "the kernel refuses BPF here: no failure to see");
    auto r = run(inventory({host("host-a", *a), closed}), {"mixed"}, {"--host-retries", "0"});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    LOAD_REPORT(rep, {}, r);
    EXPECT_EQ(rep.value("exit_status", -1), 1);
}

// 2: the artifact cannot be read; nothing is run, no report is written.
TEST_F(ExitStatus, TwoForAnArtifactErrorAndNothingRuns) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    auto r = run_bpfleet(run_args(inventory({host("host-a", *a)}), {},
                                  {"-a", (dir() / "nonexistent.bpf.o").string()}),
                         dir());
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find("nonexistent.bpf.o"), std::string::npos) << r.describe();
    EXPECT_FALSE(fs::exists(m_out / "report.json"));
}

// 3: a host gave no answer, nothing else failed.
TEST_F(ExitStatus, ThreeWhenAHostGivesNoAnswer) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    HostSpec closed;
    closed.name = "host-closed";
    closed.port = free_port();
    closed.identity_files = {m_key.private_key};
    closed.connect_timeout = 2;
    auto r = run(inventory({host("host-a", *a), closed}), {"pass"}, {"--host-retries", "0"});
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    LOAD_REPORT(rep, {}, r);
    const Json& s = rep["summary"];
    EXPECT_EQ(s.value("complete", true), false) << s.dump();
    ASSERT_EQ(s.value("miss", -1), 1) << s.dump();
    EXPECT_EQ(str(s["missing"][0], "host"), "host-closed") << s.dump();
    EXPECT_EQ(str(s["missing"][0], "artifact"), object_path("pass")) << s.dump();
    EXPECT_EQ(str(s["missing"][0], "reason").rfind("unreachable (connect): ", 0), 0u) << s.dump();
}

// The finding: an arm64-only image against an x86_64 host checked nothing and
// exited 0. Now the pair is `miss`, the host unsupported_arch, the exit 3.
TEST_F(ExitStatus, ThreeForAnArtifactWithNoObjectForTheHostsArch) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    const std::string artifact = "oci:" + arm64_only_layout().string() + ":v1";
    auto r = run_bpfleet(run_args(inventory({host("host-a", *a)}), {}, {"-a", artifact}), dir());
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(h, rep, "host-a", r);
    EXPECT_EQ(str(*h, "status"), "unsupported_arch") << hosts_summary(rep);
    const Json& s = rep["summary"];
    EXPECT_EQ(s.value("programs", -1), 0) << s.dump();
    EXPECT_EQ(s.value("complete", true), false) << s.dump();
    ASSERT_EQ(s.value("miss", -1), 1) << s.dump();
    EXPECT_EQ(str(s["missing"][0], "artifact"), artifact) << s.dump();
    EXPECT_NE(r.out.find("; 1 miss"), std::string::npos) << r.describe();
}

// The same when another artifact did run on that host: the host is ok, its
// x86_64 object passed, and the arm64-only artifact is still `miss`.
TEST_F(ExitStatus, ThreeWhenOneOfTwoArtifactsHasNoObjectForTheHost) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    const std::string artifact = "oci:" + arm64_only_layout().string() + ":v1";
    auto r =
        run_bpfleet(run_args(inventory({host("host-a", *a)}), {"pass"}, {"-a", artifact}), dir());
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(h, rep, "host-a", r);
    EXPECT_EQ(str(*h, "status"), "ok") << hosts_summary(rep);
    const Json& s = rep["summary"];
    EXPECT_GT(s.value("pass", 0), 0) << s.dump();
    ASSERT_EQ(s.value("miss", -1), 1) << s.dump();
    EXPECT_EQ(str(s["missing"][0], "artifact"), artifact) << s.dump();
    EXPECT_EQ(str(s["missing"][0], "reason"), "no object for the host's architecture (x86_64)")
        << s.dump();
    // The table says which pair had no verdict.
    EXPECT_NE(r.out.find("miss: no object for the host's architecture (x86_64)"), std::string::npos)
        << r.describe();
}

// Under --expect: the explicit opt-out ("this arch is not expected here")
// makes the arm64-only artifact's miss 0; a miss no rule expected is still 3;
// an unmet expectation is 1.
TEST_F(ExitStatus, ExpectationsOptOutAndWhatStillFails) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    const auto inv = inventory({host("host-a", *a)});
    const std::string artifact = "oci:" + arm64_only_layout().string() + ":v1";
    auto expect = [&](const std::string& name, const std::string& text) {
        const fs::path file = dir() / name;
        std::ofstream(file) << text;
        return file.string();
    };
    const std::string opt_out = expect("opt-out.toml", "[[expect]]\nhosts = \"arch:x86_64\"\n"
                                                       "artifact = \"oci:*\"\nverdict = \"miss\"\n"
                                                       "reason = \"arm64 boards only\"\n");
    auto r = run(inv, {"pass"}, {"-a", artifact, "--expect", opt_out});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    {
        LOAD_REPORT(rep, {}, r);
        EXPECT_EQ(rep["summary"].value("miss", -1), 1) << "still a miss, but an expected one";
        EXPECT_EQ(rep.value("exit_status", -1), 0);
    }

    const std::string other = expect("other.toml", "[[expect]]\nprogram = \"xdp_count\"\n"
                                                   "verdict = \"pass\"\n");
    r = run(inv, {"pass"}, {"-a", artifact, "--expect", other});
    EXPECT_EQ(r.exit_code, 3) << r.describe();

    BPFLEET_REQUIRE(bpf_usable(), "the kernel refuses BPF here: no failure to expect");
    const std::string unmet = expect("unmet.toml", "[[expect]]\nprogram = \"bad_unchecked\"\n"
                                                   "verdict = \"pass\"\n");
    r = run(inv, {"mixed"}, {"--expect", unmet});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    LOAD_REPORT(rep, {}, r);
    EXPECT_EQ(rep["expectations"].value("unmet", -1), 1) << rep["expectations"].dump();
}

// 130 and 143: the run was cut short; the report is still written and the
// hosts that did not finish are skipped — every one of them here (one in
// flight, one never started: -f 1), which is never 0.
TEST_F(ExitStatus, SignalsGiveTheShellsStatus) {
    auto slow = sshd("slow", SshdOptions{.extra_config = {slow_force_command(30)}});
    ASSERT_SSHD(slow);
    const auto inv = inventory({host("host-slow", *slow), host("host-slow-2", *slow)});
    for (const auto& [sig, code, name] :
         {std::tuple{SIGINT, 130, "SIGINT"}, std::tuple{SIGTERM, 143, "SIGTERM"}}) {
        SCOPED_TRACE(name);
        fs::remove_all(m_out);
        const auto offset = slow->log_size();
        CliProcess p(run_args(inv, {"pass"}, {"-f", "1"}), dir());
        // Signalled once the host has logged in: the run is under way (its
        // commands now wait 30 s each).
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        while (slow->log_count("Accepted publickey", offset) == 0 &&
               std::chrono::steady_clock::now() < deadline && p.running()) {
            std::this_thread::sleep_for(50ms);
        }
        ASSERT_TRUE(p.running()) << p.err_so_far();
        p.signal(sig);
        auto r = p.wait(20);
        EXPECT_EQ(r.exit_code, code) << r.describe();
        LOAD_REPORT(rep, {}, r);
        EXPECT_EQ(str(rep, "cancelled"), name);
        for (const char* host_name : {"host-slow", "host-slow-2"}) {
            FIND_HOST(h, rep, host_name, r);
            EXPECT_EQ(str(*h, "status"), "skipped") << hosts_summary(rep);
        }
        EXPECT_EQ(rep["summary"].value("miss", -1), 2) << rep["summary"].dump();
        EXPECT_EQ(rep["summary"].value("programs", -1), 0) << rep["summary"].dump();
        // The command that finishes the run: the same arguments and --resume.
        EXPECT_NE(r.err.find("to finish this run:"), std::string::npos) << r.describe();
        EXPECT_NE(r.err.find("-f 1 --resume " + (m_out / "journal.jsonl").string()),
                  std::string::npos)
            << r.describe();
    }
}

} // namespace
} // namespace bpfleet::test
