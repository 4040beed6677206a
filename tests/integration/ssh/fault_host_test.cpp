// Fault suite (label fault): hosts that stop talking without going away, and
// a controller that goes away. A server that sends its SSH banner and then
// nothing; an sshd whose session stops mid-conversation while the agent
// runs on (stalled); a host frozen whole, sshd and agent SIGSTOPped,
// mid-check; the controller SIGKILLed at random points and resumed until its
// run is complete. For each: the status and stage, the time from the fault to
// the run's end, the other hosts complete and correct, the report true to
// fact, the exit status, and nothing left on the hosts beyond the cached
// agent once they run again.

#include "ssh/fault_fixture.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <gtest/gtest.h>
#include <map>
#include <poll.h>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace bpfleet::test {
namespace {

using namespace std::chrono_literals;

// A TCP server on 127.0.0.1 that accepts, sends an SSH banner and then says
// nothing more, holding every connection open: a host whose sshd hangs after
// its banner (before the key exchange).
class BannerThenSilence {
public:
    BannerThenSilence() {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (m_fd >= 0 && ::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::listen(m_fd, 16) == 0 &&
            ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
            m_port = ntohs(addr.sin_port);
            m_thread = std::thread([this] { serve(); });
        }
    }
    BannerThenSilence(const BannerThenSilence&) = delete;
    BannerThenSilence& operator=(const BannerThenSilence&) = delete;
    ~BannerThenSilence() {
        m_stop = true;
        if (m_thread.joinable()) {
            m_thread.join();
        }
        for (int fd : m_clients) {
            ::close(fd);
        }
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    [[nodiscard]] int port() const { return m_port; }

private:
    void serve() {
        static constexpr std::string_view kBanner = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
        while (!m_stop) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) {
                continue;
            }
            const int client = ::accept(m_fd, nullptr, nullptr);
            if (client < 0) {
                continue;
            }
            (void)!::write(client, kBanner.data(), kBanner.size());
            m_clients.push_back(client); // read by nobody, closed by the destructor
        }
    }

    int m_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::vector<int> m_clients;
    std::thread m_thread;
};

// The agents below `sshd` once one of them runs a check (a process in a
// network namespace of its own), or none when `cli` ended first.
std::vector<pid_t> wait_for_check(const SshdFixture& sshd, CliProcess& cli) {
    for (int i = 0; i < 6000 && cli.running(); ++i) {
        const AgentTree tree = agent_tree(sshd.pid());
        if (tree.check > 0) {
            return tree.agents;
        }
        std::this_thread::sleep_for(5ms);
    }
    return {};
}

TEST_F(Fault, HostStalledAfterItsBannerIsUnreachableAfterTheConnectTimeout) {
    BannerThenSilence stalled;
    ASSERT_GT(stalled.port(), 0);
    HostSpec bad = healthy();
    bad.name = "host-faulty";
    bad.port = stalled.port();
    bad.connect_timeout = 2;
    auto r = run(inventory({healthy(), bad}), {"pass"}, {"--host-retries", "1"});
    expect_outcome(r, "stalled after the banner", "unreachable", "connect");
}

// The host's sshd session processes stop (SIGSTOP) while its agent checks:
// TCP stays up, the kernel acknowledges every byte, nothing comes back. The
// keepalives (1 s here) tell; the host still takes new connections, so the
// retry answers. Once the stalled session runs again its agent finds its
// controller gone and leaves nothing. verifier_limit keeps the check busy
// long enough to be caught (a `pass` conversation can end between two looks
// at /proc) and fails on both hosts: exit status 1.
TEST_F(Fault, HostStalledMidConversationIsLostAfterThreeKeepalivesAndRetried) {
    BPFLEET_REQUIRE(bpf_usable(), "the kernel refuses BPF here: no check to stall");
    m_load_only = false;
    auto b = sshd("b");
    ASSERT_SSHD(b);
    const auto inv = inventory({healthy(), host("host-faulty", *b)});
    CliProcess cli(
        run_args(inv, {"verifier_limit", "pass"}, {"--host-retries", "1", "--keepalive", "1"}),
        dir());
    const std::vector<pid_t> agents = wait_for_check(*b, cli);
    ASSERT_FALSE(agents.empty()) << "no check seen on the host\n" << cli.wait(1).describe();
    std::vector<pid_t> stopped;
    for (pid_t p : b->session_processes()) {
        if (process_cmdline(p).rfind("sshd:", 0) == 0 && ::kill(p, SIGSTOP) == 0) {
            stopped.push_back(p);
        }
    }
    ASSERT_FALSE(stopped.empty());
    const auto fault = std::chrono::steady_clock::now();
    const double detected = seconds_until_journaled(cli, "host-faulty", fault);
    auto r = cli.wait(60);
    b->thaw(stopped);
    expect_outcome(r, "stalled mid-conversation (sshd SIGSTOP)", "ok", "", detected, 1);
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(bad, rep, "host-faulty", r);
    EXPECT_EQ(bad->value("attempts", 0), 2) << hosts_summary(rep);
    expect_no_agent_left(*b, agents, 15s);
}

// The whole host freezes mid-check: sshd (its listener too), the agent and
// its check stopped. verifier_limit keeps a check busy for seconds (and fails
// on the healthy host: exit status 1). No retry here, to time the loss alone
// (a retry would add one connect timeout: the frozen host takes TCP, says
// nothing).
TEST_F(Fault, HostFrozenMidCheckIsLostAfterThreeKeepalives) {
    BPFLEET_REQUIRE(bpf_usable(), "the kernel refuses BPF here: no check to freeze");
    m_load_only = false;
    auto b = sshd("b");
    ASSERT_SSHD(b);
    const auto inv = inventory({healthy(), host("host-faulty", *b)});
    CliProcess cli(
        run_args(inv, {"verifier_limit", "pass"}, {"--host-retries", "0", "--keepalive", "1"}),
        dir());
    const std::vector<pid_t> agents = wait_for_check(*b, cli);
    ASSERT_FALSE(agents.empty()) << "no check seen on the host\n" << cli.wait(1).describe();
    std::vector<pid_t> frozen{b->pid()};
    ASSERT_EQ(::kill(b->pid(), SIGSTOP), 0);
    for (pid_t p : b->freeze_sessions()) {
        frozen.push_back(p);
    }
    const auto fault = std::chrono::steady_clock::now();
    const double detected = seconds_until_journaled(cli, "host-faulty", fault);
    auto r = cli.wait(60);
    b->thaw(frozen);
    expect_outcome(r, "frozen mid-check (sshd + agent SIGSTOP)", "unreachable", "run", detected, 1);
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(bad, rep, "host-faulty", r);
    EXPECT_NE(str(*bad, "error").find("keepalive"), std::string::npos) << str(*bad, "error");
    expect_no_agent_left(*b, agents, 15s);
}

// The controller is SIGKILLed at random points (the seed is printed; set
// BPFLEET_FAULT_SEED to replay one) and resumed each time from its journal,
// until a run ends by itself. That run's report is complete and correct:
// every host ok with its verdicts, one journal line per host, one run id.
// After each kill the hosts' agents find their controller gone and stop.
TEST_F(Fault, ControllerKilledAtRandomPointsThenResumedCompletesTheRun) {
    constexpr int kHosts = 4;
    constexpr int kKills = 5;
    std::vector<std::unique_ptr<SshdFixture>> fleet;
    std::vector<HostSpec> specs{healthy()};
    for (int i = 1; i < kHosts; ++i) {
        const std::string name = "host-" + std::to_string(i);
        fleet.push_back(sshd(name, SshdOptions{.extra_config = {slow_force_command(0.3)}}));
        ASSERT_SSHD(fleet.back());
        specs.push_back(host(name, *fleet.back()));
    }
    const auto inv = inventory(specs);
    // The agent cached first: the kills fall in the conversations and the
    // journal's writes, not all in the 20 MB upload (the reset test cuts that).
    warm_up(inv);
    const char* seed_env = std::getenv("BPFLEET_FAULT_SEED");
    const unsigned seed = seed_env != nullptr
                              ? static_cast<unsigned>(std::strtoul(seed_env, nullptr, 10))
                              : std::random_device{}();
    std::printf("fault: controller SIGKILL, seed %u (BPFLEET_FAULT_SEED)\n", seed);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> kill_after_ms(0, 3000);
    const fs::path journal = m_out / "journal.jsonl";
    auto all_agents_gone = [&] {
        std::vector<const SshdFixture*> all{m_healthy.get()};
        for (const auto& f : fleet) {
            all.push_back(f.get());
        }
        for (const SshdFixture* f : all) {
            expect_no_agent_left(*f, {}, 15s);
        }
    };

    int kills = 0;
    CliResult last;
    for (int cycle = 0; cycle <= kKills; ++cycle) {
        std::vector<std::string> extra{"--forks", "2", "--host-retries", "0"};
        // A journal without its header line (killed before it was whole) is
        // not a run to resume: nothing of it had finished.
        const bool resumable =
            !read_text(journal).empty() && read_text(journal).find('\n') != std::string::npos;
        if (resumable) {
            extra.insert(extra.end(), {"--resume", journal.string()});
        }
        CliProcess cli(run_args(inv, {"pass"}, extra), dir());
        const int after = kill_after_ms(rng);
        const auto started = std::chrono::steady_clock::now();
        while (cycle < kKills && cli.running() &&
               std::chrono::steady_clock::now() - started < std::chrono::milliseconds(after)) {
            std::this_thread::sleep_for(1ms);
        }
        if (cycle < kKills && cli.running()) {
            cli.signal(SIGKILL);
            auto killed = cli.wait(10);
            ASSERT_EQ(killed.term_signal, SIGKILL) << killed.describe();
            ++kills;
            std::printf("fault: cycle %d killed after %d ms, %zu host(s) in the journal\n", cycle,
                        after, read_journal(journal).size());
            all_agents_gone();
            continue;
        }
        last = cli.wait(120);
        break;
    }
    std::printf("fault: controller SIGKILLed %d time(s), then the run ended by itself\n", kills);
    EXPECT_EQ(last.exit_code, 0) << last.describe();
    LOAD_REPORT(rep, {}, last);
    EXPECT_EQ(rep["summary"]["complete"], true) << rep["summary"].dump();
    EXPECT_EQ(rep["exit_status"], 0);
    ASSERT_EQ(host_names(rep).size(), static_cast<std::size_t>(kHosts)) << hosts_summary(rep);
    for (const auto& h : rep["hosts"]) {
        EXPECT_EQ(str(h, "status"), "ok") << hosts_summary(rep);
        const Json* check = find_check(h, "pass.bpf.o");
        ASSERT_NE(check, nullptr) << hosts_summary(rep);
        const auto verdicts = load_verdicts(*check);
        EXPECT_FALSE(verdicts.empty()) << check->dump().substr(0, 400);
        for (const auto& [program, verdict] : verdicts) {
            EXPECT_EQ(verdict, "pass") << str(h, "name") << " " << program;
        }
    }
    std::map<std::string, int> lines;
    for (const auto& line : read_journal(journal)) {
        ++lines[str(line, "name")];
    }
    EXPECT_EQ(lines.size(), static_cast<std::size_t>(kHosts)) << read_text(journal).substr(0, 4000);
    for (const auto& [name, n] : lines) {
        EXPECT_EQ(n, 1) << name << ": one journal line per host\n"
                        << read_text(journal).substr(0, 4000);
    }
    const Json header =
        Json::parse(read_text(journal).substr(0, read_text(journal).find('\n')), nullptr, false);
    ASSERT_TRUE(header.is_object()) << read_text(journal).substr(0, 400);
    EXPECT_EQ(header["run"]["id"], rep["run"]["id"]) << "a resumed run keeps its id";
    all_agents_gone();
    expect_only_the_agent_cached();
}

} // namespace
} // namespace bpfleet::test
