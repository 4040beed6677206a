// The fault suite's shared set-up (label fault; fault_*_test.cpp): one
// faulty host next to a healthy one, iptables rules that live as long as a
// test, a listener that never speaks, and the checks every fault ends with
// (expect_outcome): the faulty host's status and stage, the time bpfleet took
// to tell (its duration_ms, printed as a "fault:" line for
// docs/reliability.md), the healthy host complete and correct, `complete`
// and the exit status true to fact, and nothing left on the hosts but the
// cached agent.
#pragma once

#include "ssh/ssh_run_fixture.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace bpfleet::test {

constexpr const char* kIptables = "/usr/sbin/iptables";
constexpr const char* kPython = "/usr/bin/python3";

inline std::string link_of(const fs::path& p) {
    std::error_code ec;
    auto target = fs::read_symlink(p, ec);
    return ec ? std::string() : target.string();
}

// The agents `serve` processes below `root` and, for each, the check
// process: its child in a network namespace of its own.
struct AgentTree {
    std::vector<pid_t> agents;
    pid_t check = -1;
};

inline AgentTree agent_tree(pid_t root) {
    AgentTree tree;
    const auto all = descendants(root);
    for (pid_t p : all) {
        if (process_cmdline(p).find(" serve") != std::string::npos) {
            tree.agents.push_back(p);
        }
    }
    for (pid_t p : tree.agents) {
        const std::string ns = link_of("/proc/" + std::to_string(p) + "/ns/net");
        for (pid_t c : descendants(p)) {
            const std::string child_ns = link_of("/proc/" + std::to_string(c) + "/ns/net");
            if (!child_ns.empty() && child_ns != ns) {
                tree.check = c;
            }
        }
    }
    return tree;
}

// One iptables rule on INPUT for the life of the object.
class IptablesRule {
public:
    explicit IptablesRule(std::string spec) : m_spec(std::move(spec)) {
        m_ok = std::system((std::string(kIptables) + " -w -I INPUT " + m_spec).c_str()) == 0;
    }
    IptablesRule(const IptablesRule&) = delete;
    IptablesRule& operator=(const IptablesRule&) = delete;
    ~IptablesRule() {
        if (m_ok) {
            (void)std::system((std::string(kIptables) + " -w -D INPUT " + m_spec).c_str());
        }
    }
    [[nodiscard]] bool ok() const { return m_ok; }

private:
    std::string m_spec;
    bool m_ok = false;
};

// A TCP socket on 127.0.0.1 that listens and never accepts: the kernel
// completes the handshake, nobody ever says a word (a host with no banner).
class SilentListener {
public:
    SilentListener() {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (m_fd >= 0 && ::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::listen(m_fd, 16) == 0 &&
            ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
            m_port = ntohs(addr.sin_port);
        }
    }
    SilentListener(const SilentListener&) = delete;
    SilentListener& operator=(const SilentListener&) = delete;
    ~SilentListener() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    [[nodiscard]] int port() const { return m_port; }

private:
    int m_fd = -1;
    int m_port = 0;
};

// A port nothing listens on (bound once, then closed).
inline int closed_port() {
    SilentListener l;
    return l.port(); // closed when `l` goes
}

class Fault : public SshRun {
protected:
    void SetUp() override {
        SshRun::SetUp();
        if (set_up_stopped()) {
            return;
        }
        m_healthy = sshd("healthy");
        ASSERT_SSHD(m_healthy);
    }

    // The healthy host's spec, for every inventory of these tests.
    [[nodiscard]] HostSpec healthy() const { return host("host-ok", *m_healthy); }

    // Runs the inventory once without any fault so that the agent is cached
    // on every host: the faults that must not stop a run are about the
    // checks, not the 20 MB upload.
    void warm_up(const fs::path& inv) {
        auto r = run(inv, {"pass"}, {}, dir() / "out-warm");
        ASSERT_EQ(r.exit_code, 0) << r.describe();
    }

    // The faulty host's status, stage and time to tell, checked against what
    // was expected and printed for docs/reliability.md; the healthy host
    // answered in full; complete and exit status as they must be; nothing
    // left in the remote folder but the agent.
    // `detected_s`: the time from the fault to the host's result when the
    // test measured it; else (< 0) the host's duration_ms is printed.
    // `expected_exit`: when another artifact fails on the healthy host (1);
    // else 0 for an answered faulty host, 3 for one that gave no answer.
    void expect_outcome(const CliResult& r, const std::string& fault, const std::string& status,
                        const std::string& stage, double detected_s = -1, int expected_exit = -1) {
        const bool answered = status == "ok";
        EXPECT_EQ(r.exit_code, expected_exit >= 0 ? expected_exit
                               : answered         ? 0
                                                  : 3)
            << r.describe();
        LOAD_REPORT(rep, {}, r);
        FIND_HOST(bad, rep, "host-faulty", r);
        FIND_HOST(good, rep, "host-ok", r);
        EXPECT_EQ(str(*bad, "status"), status) << hosts_summary(rep);
        if (!answered) {
            EXPECT_EQ(str(*bad, "stage"), stage) << hosts_summary(rep);
        }
        EXPECT_EQ(str(*good, "status"), "ok") << hosts_summary(rep);
        const Json* check = find_check(*good, "pass.bpf.o");
        ASSERT_NE(check, nullptr) << hosts_summary(rep);
        EXPECT_FALSE(load_verdicts(*check).empty()) << check->dump().substr(0, 400);
        EXPECT_EQ(rep["summary"]["complete"], answered) << rep["summary"].dump();
        EXPECT_EQ(rep["exit_status"], r.exit_code);
        std::printf("fault: %s -> %s (%s) after %.1f s%s, %d attempt(s)\n", fault.c_str(),
                    str(*bad, "status").c_str(), str(*bad, "stage").c_str(),
                    detected_s >= 0 ? detected_s : bad->value("duration_ms", 0.0) / 1000.0,
                    detected_s >= 0 ? " from the fault" : " of the host",
                    bad->value("attempts", 0));
        std::printf("fault: %s: %s\n", fault.c_str(), str(*bad, "error").c_str());
        expect_only_the_agent_cached();
        for (pid_t p : descendants(m_healthy->pid())) {
            EXPECT_EQ(process_cmdline(p).find(" serve"), std::string::npos)
                << "an agent still runs: " << process_cmdline(p);
        }
    }

    // Seconds from `fault` until the journal has `name`'s result (the moment
    // the run is done with that host), polled while `cli` runs; -1 if never.
    double seconds_until_journaled(CliProcess& cli, const std::string& name,
                                   std::chrono::steady_clock::time_point fault) const {
        const fs::path journal = m_out / "journal.jsonl";
        while (cli.running()) {
            if (names_of(read_journal(journal)).count(name) != 0) {
                return std::chrono::duration<double>(std::chrono::steady_clock::now() - fault)
                    .count();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return names_of(read_journal(journal)).count(name) != 0
                   ? std::chrono::duration<double>(std::chrono::steady_clock::now() - fault).count()
                   : -1;
    }

    // Nothing in the hosts' agent folder but cached agents, once the hosts
    // have had up to 10 s to clean up after a cut connection (the upload's
    // shell removes its temporary file when its input ends short).
    void expect_only_the_agent_cached() const {
        auto left = [&] {
            std::vector<fs::path> out;
            std::error_code ec;
            for (const auto& entry : fs::directory_iterator(m_remote, ec)) {
                if (entry.path().filename().string().rfind("agent-", 0) != 0) {
                    out.push_back(entry.path());
                }
            }
            return out;
        };
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!left().empty() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        for (const auto& p : left()) {
            ADD_FAILURE() << "left on the host: " << p;
        }
    }

    // Waits up to `within` for every agent below `sshd` to be gone, then
    // checks that none is left and that no scratch cgroup of those agents is.
    static void expect_no_agent_left(const SshdFixture& sshd, const std::vector<pid_t>& agents,
                                     std::chrono::seconds within) {
        const auto deadline = std::chrono::steady_clock::now() + within;
        while (!agent_tree(sshd.pid()).agents.empty() &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        for (pid_t p : agent_tree(sshd.pid()).agents) {
            ADD_FAILURE() << "an agent still runs: " << process_cmdline(p);
        }
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator("/sys/fs/cgroup", ec)) {
            const std::string name = entry.path().filename().string();
            for (pid_t p : agents) {
                EXPECT_NE(name.rfind("bpfleet-check." + std::to_string(p) + ".", 0), 0u)
                    << "left on the host: " << entry.path();
            }
        }
    }

    std::unique_ptr<SshdFixture> m_healthy;
};

} // namespace bpfleet::test
