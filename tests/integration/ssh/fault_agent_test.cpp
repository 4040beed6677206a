// Fault suite (label fault): what is left on a host when the controller
// gives up on it. A check that hangs (its process stopped) while the
// controller is cancelled: the agent must stop the check, remove its sandbox
// and exit at once, not run on until its own watchdog.

#include "ssh/fault_fixture.hpp"

#include <chrono>
#include <csignal>
#include <gtest/gtest.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace bpfleet::test {
namespace {

using namespace std::chrono_literals;

// The finding (#10): an agent whose controller went away kept running its
// check until --check-timeout (here 90 s), with its scratch cgroup. The
// first object keeps the verifier busy for seconds: time to catch its check.
TEST_F(SshRun, AnAgentWhoseControllerHangsUpStopsItsCheckAndLeavesNothing) {
    BPFLEET_REQUIRE(bpf_usable(), "the kernel refuses BPF here: no check to stop");
    m_load_only = false;
    auto a = sshd("a");
    ASSERT_SSHD(a);
    const pid_t sshd_pid = a->pid();
    CliProcess process(run_args(inventory({host("host-a", *a)}), {"verifier_limit", "five_kinds"},
                                {"--check-timeout", "90", "--host-retries", "0"}),
                       dir());
    pid_t check = -1;
    for (int i = 0; i < 6000 && check < 0 && process.running(); ++i) {
        check = agent_tree(sshd_pid).check;
        if (check < 0) {
            std::this_thread::sleep_for(2ms);
        }
    }
    ASSERT_GT(check, 0) << "no check process seen\n" << process.wait(30).describe();
    ASSERT_EQ(::kill(check, SIGSTOP), 0); // the check hangs from here on
    const std::vector<pid_t> agents = agent_tree(sshd_pid).agents;
    ASSERT_FALSE(agents.empty());
    std::this_thread::sleep_for(200ms);
    const auto cancelled = std::chrono::steady_clock::now();
    process.signal(SIGTERM);
    auto r = process.wait(60);
    EXPECT_EQ(r.exit_code, 143) << r.describe();

    bool gone = false;
    while (!gone && std::chrono::steady_clock::now() - cancelled < 30s) {
        gone = !process_alive(check);
        for (pid_t p : agents) {
            gone = gone && !process_alive(p);
        }
        if (!gone) {
            std::this_thread::sleep_for(20ms);
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - cancelled).count();
    if (process_alive(check)) {
        ::kill(check, SIGKILL);
    }
    ASSERT_TRUE(gone) << "the agent still runs " << seconds << " s after its controller went";
    EXPECT_LT(seconds, 10.0);
    RecordProperty("seconds_to_stop", std::to_string(seconds));
    // Nothing of the check's sandbox is left: no scratch cgroup of an agent
    // that is gone, no agent process under sshd.
    EXPECT_TRUE(agent_tree(sshd_pid).agents.empty());
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/sys/fs/cgroup", ec)) {
        const std::string name = entry.path().filename().string();
        for (pid_t p : agents) {
            EXPECT_NE(name.rfind("bpfleet-check." + std::to_string(p) + ".", 0), 0u)
                << entry.path();
        }
    }
}

} // namespace
} // namespace bpfleet::test
