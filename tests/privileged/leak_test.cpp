// Nothing a check creates survives it: BPF programs, maps and links (counted
// by id iteration), network namespaces, cgroups, mounts and temp files are
// the same before and after 100 checks, and after checks killed with SIGKILL
// at different moments. Runs alone (RUN_SERIAL): the counts are system-wide.

#include "bpf/sandbox.hpp"
#include "common/subprocess.hpp"
#include "privileged/agent_runner.hpp"
#include "support/require.hpp"

#include <bpf/bpf.h>
#include <chrono>
#include <csignal>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace bpfleet::test {
namespace {

namespace fs = std::filesystem;

struct Resources {
    int programs = 0;
    int maps = 0;
    int links = 0;
    std::set<ino_t> netns;
    int cgroups = 0;
    int mounts = 0;
    int temp_files = 0;

    bool operator==(const Resources&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Resources& r) {
    return os << "{programs " << r.programs << ", maps " << r.maps << ", links " << r.links
              << ", netns " << r.netns.size() << ", cgroups " << r.cgroups << ", mounts "
              << r.mounts << ", temp files " << r.temp_files << "}";
}

int count_ids(int (*next)(__u32, __u32*)) {
    int n = 0;
    __u32 id = 0;
    while (next(id, &id) == 0) {
        ++n;
    }
    return n;
}

int count_cgroups(const fs::path& root) {
    int n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::end(it);
         it.increment(ec)) {
        if (ec) {
            break;
        }
        if (it->is_directory(ec)) {
            ++n;
        }
    }
    return n;
}

Resources snapshot() {
    Resources r;
    r.programs = count_ids(bpf_prog_get_next_id);
    r.maps = count_ids(bpf_map_get_next_id);
    r.links = count_ids(bpf_link_get_next_id);
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const auto name = entry.path().filename().string();
        if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) {
            continue;
        }
        struct stat st {};
        if (stat((entry.path() / "ns/net").c_str(), &st) == 0) {
            r.netns.insert(st.st_ino);
        }
    }
    r.cgroups = count_cgroups(find_cgroup2_mount());
    std::ifstream mounts("/proc/self/mountinfo");
    std::string line;
    while (std::getline(mounts, line)) {
        ++r.mounts;
    }
    for (const auto& entry : fs::directory_iterator(fs::temp_directory_path())) {
        if (entry.path().filename().string().starts_with("bpfleet")) {
            ++r.temp_files;
        }
    }
    return r;
}

// Polls until the system is back at `before` (clean-up after a SIGKILL is
// done by the reaper, asynchronously), for at most 10 s.
Resources settle(const Resources& before) {
    Resources now = snapshot();
    for (int i = 0; i < 100 && !(now == before); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        now = snapshot();
    }
    return now;
}

class Leaks : public ::testing::Test {
protected:
    void SetUp() override {
        BPFLEET_REQUIRE(is_root(), "counting system-wide BPF objects needs root");
        BPFLEET_REQUIRE(bpf_available(), "the kernel refuses BPF programs here");
        BPFLEET_REQUIRE(!find_cgroup2_mount().empty(), "no cgroup2 hierarchy to count");
    }
};

TEST_F(Leaks, HundredChecksLeaveNothingBehind) {
    const Resources before = snapshot();
    const std::vector<std::string> objects = {"five_kinds", "attach_network", "attach_cgroup",
                                              "attach_tracing", "mixed"};
    for (int i = 0; i < 100; ++i) {
        const auto& object = objects[static_cast<std::size_t>(i) % objects.size()];
        auto run = run_agent({"check", "--object", test_object(object)});
        ASSERT_TRUE(run.report) << object << ": " << run.parse_error << run.err;
    }
    EXPECT_EQ(settle(before), before);
}

TEST_F(Leaks, ChecksKilledWithSigkillLeaveNothingBehind) {
    const Resources before = snapshot();
    const std::string cgroup_root = find_cgroup2_mount();
    for (int delay_ms : {0, 20, 60, 120, 200, 300, 450}) {
        SCOPED_TRACE("SIGKILL after " + std::to_string(delay_ms) + " ms");
        auto agent =
            Process::spawn({BPFLEET_AGENT_PATH, "check", "--object", test_object("attach_cgroup")},
                           {.out = Stdio::null(), .err = Stdio::null()});
        ASSERT_TRUE(agent) << agent.error().describe();
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        agent->kill(SIGKILL);
        agent->wait();
        EXPECT_EQ(settle(before), before);
    }
    for (const auto& entry : fs::directory_iterator(cgroup_root)) {
        EXPECT_FALSE(entry.path().filename().string().starts_with("bpfleet-check."))
            << entry.path() << " survived";
    }
}

TEST_F(Leaks, TimedOutCheckLeavesNothingBehind) {
    const Resources before = snapshot();
    auto run = run_agent({"check", "--object", test_object("verifier_limit"), "--timeout", "1"});
    ASSERT_TRUE(run.report) << run.parse_error;
    EXPECT_EQ(settle(before), before);
}

} // namespace
} // namespace bpfleet::test
