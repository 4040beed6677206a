// Fault suite (label fault): one faulty host next to a healthy one, for each
// way a host or its network fails: refused, blackholed (iptables DROP),
// banner-less, killed mid-run, the agent killed mid-check, the connection
// reset during the agent's upload, 40 % packet loss (iptables `statistic`)
// and 300 ms of latency (scripts/delay-relay.py: this kernel has no netem).
// For each: the faulty host's status and stage, the time bpfleet took to
// tell (its duration_ms, printed as a "fault:" line for docs/reliability.md),
// the healthy host complete and correct, the report's `complete` and the
// exit status true to fact, and nothing left on the hosts but the cached
// agent.
//
// The iptables rules match one ephemeral port of this test's own sshd on
// 127.0.0.1 and are removed when the test ends.

#include "ssh/fault_fixture.hpp"

#include <chrono>
#include <csignal>
#include <gtest/gtest.h>
#include <string>
#include <thread>

namespace bpfleet::test {
namespace {

using namespace std::chrono_literals;

TEST_F(Fault, RefusedHostIsUnreachableAtConnect) {
    HostSpec bad = healthy();
    bad.name = "host-faulty";
    bad.port = closed_port();
    auto r = run(inventory({healthy(), bad}), {"pass"}, {"--host-retries", "1"});
    expect_outcome(r, "refused", "unreachable", "connect");
}

TEST_F(Fault, BlackholedHostIsUnreachableAfterTheConnectTimeout) {
    auto b = sshd("b");
    ASSERT_SSHD(b);
    HostSpec bad = host("host-faulty", *b);
    bad.connect_timeout = 2;
    IptablesRule drop("-p tcp -d 127.0.0.1 --dport " + std::to_string(b->port()) + " -j DROP");
    BPFLEET_REQUIRE(drop.ok(), "iptables cannot add a rule here");
    auto r = run(inventory({healthy(), bad}), {"pass"}, {"--host-retries", "1"});
    expect_outcome(r, "blackholed (DROP)", "unreachable", "connect");
}

TEST_F(Fault, HostWithoutABannerIsUnreachableAfterTheConnectTimeout) {
    SilentListener silent;
    ASSERT_GT(silent.port(), 0);
    HostSpec bad = healthy();
    bad.name = "host-faulty";
    bad.port = silent.port();
    bad.connect_timeout = 2;
    auto r = run(inventory({healthy(), bad}), {"pass"}, {"--host-retries", "1"});
    expect_outcome(r, "banner-less", "unreachable", "connect");
}

// The host goes away (sshd and its sessions SIGKILLed) once its agent runs.
TEST_F(Fault, HostKilledMidRunIsUnreachableAfterItsRetries) {
    auto b = sshd("b", SshdOptions{.extra_config = {slow_force_command(1)}});
    ASSERT_SSHD(b);
    const auto inv = inventory({healthy(), host("host-faulty", *b)});
    CliProcess cli(run_args(inv, {"pass"}, {"--host-retries", "1"}), dir());
    bool started = false;
    for (int i = 0; i < 3000 && !started && cli.running(); ++i) {
        for (pid_t p : b->session_processes()) {
            started = started || process_cmdline(p).find(" serve") != std::string::npos ||
                      process_env(p, "SSH_ORIGINAL_COMMAND").find(" serve") != std::string::npos;
        }
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(started) << cli.wait(1).describe();
    const auto sessions = b->session_processes();
    ::kill(b->pid(), SIGKILL);
    for (pid_t p : sessions) {
        ::kill(p, SIGKILL);
    }
    auto r = cli.wait(90);
    expect_outcome(r, "killed mid-run", "unreachable", "connect");
}

// The agent's check process is SIGKILLed: its supervisor reports the check
// (every program an error) and the host goes on.
TEST_F(Fault, AgentCheckKilledMidCheckIsReportedAndTheRunGoesOn) {
    auto b = sshd("b");
    ASSERT_SSHD(b);
    m_load_only = false;
    BPFLEET_REQUIRE(bpf_usable(), "the kernel refuses BPF here: no check to kill");
    const auto inv = inventory({healthy(), host("host-faulty", *b)});
    CliProcess cli(run_args(inv, {"pass", "five_kinds"}, {"--host-retries", "0"}), dir());
    pid_t agent = -1;
    for (int i = 0; i < 6000 && agent < 0 && cli.running(); ++i) {
        for (pid_t p : descendants(b->pid())) {
            if (process_cmdline(p).find("agent-") != std::string::npos &&
                process_cmdline(p).find(" serve") != std::string::npos &&
                process_cmdline(p).find("sh -c") == std::string::npos) {
                agent = p;
            }
        }
        std::this_thread::sleep_for(2ms);
    }
    ASSERT_GT(agent, 0) << cli.wait(1).describe();
    ::kill(agent, SIGKILL);
    auto r = cli.wait(90);
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(bad, rep, "host-faulty", r);
    EXPECT_EQ(str(*bad, "status"), "agent_error") << hosts_summary(rep);
    EXPECT_EQ(str(*bad, "stage"), "run") << hosts_summary(rep);
    std::printf("fault: agent SIGKILL mid-check -> %s (%s) after %.1f s\n",
                str(*bad, "status").c_str(), str(*bad, "stage").c_str(),
                bad->value("duration_ms", 0.0) / 1000.0);
    FIND_HOST(good, rep, "host-ok", r);
    EXPECT_EQ(str(*good, "status"), "ok") << hosts_summary(rep);
    EXPECT_EQ(rep["summary"]["complete"], false);
}

// The connection is cut while the agent is being uploaded: the attempt is
// retried, the host answers, and no partial upload is left behind.
TEST_F(Fault, ResetDuringTheUploadIsRetriedAndLeavesNoPartialFile) {
    auto b = sshd("b");
    ASSERT_SSHD(b);
    const auto inv = inventory({healthy(), host("host-faulty", *b)});
    CliProcess cli(run_args(inv, {"pass"}, {"--host-retries", "1"}), dir());
    // The upload's temp file is ".agent-SHA.PID", PID the shell of b's
    // session (the healthy host uploads into the same folder). Killing b's
    // sshd session processes drops the connection at both ends, as a reset.
    bool cut = false;
    for (int i = 0; i < 20000 && !cut && cli.running(); ++i) {
        const auto sessions = b->session_processes();
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(m_remote, ec)) {
            const std::string name = entry.path().filename().string();
            for (pid_t p : sessions) {
                cut = cut ||
                      (name.rfind(".agent-", 0) == 0 && name.size() > std::to_string(p).size() &&
                       name.substr(name.size() - std::to_string(p).size() - 1) ==
                           "." + std::to_string(p));
            }
        }
        if (cut) {
            for (pid_t p : sessions) {
                if (process_cmdline(p).rfind("sshd:", 0) == 0) {
                    ::kill(p, SIGKILL);
                }
            }
        } else {
            std::this_thread::sleep_for(500us);
        }
    }
    auto r = cli.wait(90);
    BPFLEET_REQUIRE(cut, "the upload ended before the test could cut it");
    expect_outcome(r, "reset during the upload", "ok", "");
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(bad, rep, "host-faulty", r);
    EXPECT_EQ(bad->value("attempts", 0), 2) << hosts_summary(rep);
}

// Both directions lose 40 % of their packets: TCP's retransmissions back off
// (a SYN lost four times in a row costs 15 s; 38 s seen for a whole run), so
// the lossy host gets a connect timeout of 60 s; the run must still complete.
TEST_F(Fault, FortyPercentLossStillCompletes) {
    auto b = sshd("b");
    ASSERT_SSHD(b);
    HostSpec lossy_host = host("host-faulty", *b);
    lossy_host.connect_timeout = 60;
    const auto inv = inventory({healthy(), lossy_host});
    warm_up(inv);
    const std::string port = std::to_string(b->port());
    const std::string lossy = " -m statistic --mode random --probability 0.4 -j DROP";
    IptablesRule in("-p tcp -d 127.0.0.1 --dport " + port + lossy);
    IptablesRule out("-p tcp -s 127.0.0.1 --sport " + port + lossy);
    BPFLEET_REQUIRE(in.ok() && out.ok(), "iptables' statistic match is not available here");
    auto r = run(inv, {"pass"}, {"--host-retries", "2"});
    expect_outcome(r, "40 % packet loss", "ok", "");
}

TEST_F(Fault, ThreeHundredMillisecondsOfLatencyStillCompletes) {
    auto b = sshd("b");
    ASSERT_SSHD(b);
    const int relay_port = closed_port();
    const fs::path relay_log = dir() / "relay.log";
    auto relay = spawn_logged({kPython, std::string(BPFLEET_SOURCE_DIR) + "/scripts/delay-relay.py",
                               "--rtt-ms", "300", "--map",
                               std::to_string(relay_port) + ":" + std::to_string(b->port())},
                              relay_log, relay_log, {}, true);
    ASSERT_TRUE(relay) << relay.error().describe();
    for (int i = 0; i < 500 && !listening_on(relay_port); ++i) {
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(listening_on(relay_port)) << read_text(relay_log);
    HostSpec slow = host("host-faulty", *b);
    const auto direct = inventory({healthy(), slow}, "direct.toml");
    warm_up(direct);
    slow.port = relay_port;
    auto r = run(inventory({healthy(), slow}), {"pass"}, {"--host-retries", "0"});
    expect_outcome(r, "300 ms latency", "ok", "");
}

} // namespace
} // namespace bpfleet::test
