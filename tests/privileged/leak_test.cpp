// Nothing a check creates survives it: BPF programs, maps and links, network
// namespaces, cgroups, mounts and temp files are the same before and after
// 100 checks, and after checks killed with SIGKILL at different moments.
//
// Only what bpfleet makes is counted, so that other work on the machine (a
// service loading BPF, another test's mounts, cgroups and temp files) cannot
// fail these tests: programs by the names in the test objects, maps by their
// names (internal ones by libbpf's "<object prefix>.<section>"), links by
// their program, network namespaces held by processes running the agent,
// cgroups named bpfleet-check.*, mounts and temp entries whose path says
// bpfleet-cgroup2. Runs alone (RUN_SERIAL) all the same.

#include "bpf/object.hpp"
#include "bpf/sandbox.hpp"
#include "common/subprocess.hpp"
#include "privileged/agent_runner.hpp"
#include "support/require.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace bpfleet::test {
namespace {

namespace fs = std::filesystem;

// The names the test objects give their programs and maps in the kernel
// (at most 15 characters: BPF_OBJ_NAME_LEN - 1).
struct OurNames {
    std::set<std::string> programs;
    std::set<std::string> maps;
    std::set<std::string> object_prefixes; // libbpf's prefix of internal map names
};

// What HundredChecksLeaveNothingBehind checks in turn; every object the tests
// here use is in kObjects.
const std::vector<std::string> kHundredChecks = {"five_kinds", "attach_network", "attach_cgroup",
                                                 "attach_tracing", "mixed"};
const std::vector<std::string> kObjects = {
    "five_kinds", "attach_network", "attach_cgroup", "attach_tracing",
    "mixed",      "verifier_limit", "pass"};

std::string kernel_name(const std::string& name) {
    return name.substr(0, 15);
}

const OurNames& our_names() {
    static const OurNames names = [] {
        OurNames n;
        for (const auto& object : kObjects) {
            const fs::path path = test_object(object);
            std::ifstream in(path, std::ios::binary);
            auto bytes = std::make_shared<const std::vector<std::uint8_t>>(
                std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            const std::string file = path.filename().string();
            n.object_prefixes.insert(file.substr(0, 8));
            auto facts = bpf::inspect_object(bytes, file);
            if (!facts) {
                ADD_FAILURE() << file << ": " << facts.error().message;
                continue;
            }
            for (const auto& p : facts->programs) {
                n.programs.insert(kernel_name(p.name));
            }
            for (const auto& m : facts->maps) {
                n.maps.insert(kernel_name(m.name));
            }
        }
        return n;
    }();
    return names;
}

bool is_our_map(const std::string& name) {
    const auto& ours = our_names();
    if (ours.maps.contains(name)) {
        return true;
    }
    const auto dot = name.find('.');
    return dot != std::string::npos && dot <= 8 &&
           ours.object_prefixes.contains(name.substr(0, dot));
}

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

// Counts the BPF objects (by id iteration) for which `ours(fd)` holds.
template <typename Ours>
int count_ids(int (*next)(__u32, __u32*), int (*fd_by_id)(__u32), Ours ours) {
    int n = 0;
    __u32 id = 0;
    while (next(id, &id) == 0) {
        const int fd = fd_by_id(id);
        if (fd < 0) {
            continue; // gone meanwhile
        }
        if (ours(fd)) {
            ++n;
        }
        close(fd);
    }
    return n;
}

bool is_our_program_fd(int fd) {
    bpf_prog_info info{};
    __u32 len = sizeof info;
    return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && our_names().programs.contains(info.name);
}

bool is_our_program_id(__u32 id) {
    const int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) {
        return false;
    }
    const bool ours = is_our_program_fd(fd);
    close(fd);
    return ours;
}

// The agent's scratch cgroups (bpfleet-check.*, at the top of the v2
// hierarchy) and everything below them.
int count_cgroups(const fs::path& root) {
    int n = 0;
    std::error_code ec;
    for (const auto& top : fs::directory_iterator(root, ec)) {
        if (!top.is_directory(ec) ||
            !top.path().filename().string().starts_with("bpfleet-check.")) {
            continue;
        }
        ++n;
        for (auto it = fs::recursive_directory_iterator(top.path(), ec); !ec && it != fs::end(it);
             it.increment(ec)) {
            if (it->is_directory(ec)) {
                ++n;
            }
        }
    }
    return n;
}

Resources snapshot() {
    Resources r;
    r.programs = count_ids(bpf_prog_get_next_id, bpf_prog_get_fd_by_id, is_our_program_fd);
    r.maps = count_ids(bpf_map_get_next_id, bpf_map_get_fd_by_id, [](int fd) {
        bpf_map_info info{};
        __u32 len = sizeof info;
        return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && is_our_map(info.name);
    });
    r.links = count_ids(bpf_link_get_next_id, bpf_link_get_fd_by_id, [](int fd) {
        bpf_link_info info{};
        __u32 len = sizeof info;
        return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && is_our_program_id(info.prog_id);
    });
    // Network namespaces held by a process running the agent (its sandbox).
    const fs::path agent = fs::canonical(BPFLEET_AGENT_PATH);
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const auto name = entry.path().filename().string();
        if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) {
            continue;
        }
        std::error_code ec;
        if (fs::read_symlink(entry.path() / "exe", ec) != agent) {
            continue;
        }
        struct stat st {};
        if (stat((entry.path() / "ns/net").c_str(), &st) == 0) {
            r.netns.insert(st.st_ino);
        }
    }
    r.cgroups = count_cgroups(bpf::find_cgroup2_mount());
    // The agent mounts a cgroup2 hierarchy of its own in the host's
    // namespace only under /tmp/bpfleet-cgroup2.*; the rest of its mounts
    // live and die in its private mount namespace.
    std::ifstream mounts("/proc/self/mountinfo");
    std::string line;
    while (std::getline(mounts, line)) {
        if (line.find("/bpfleet-cgroup2.") != std::string::npos) {
            ++r.mounts;
        }
    }
    for (const auto& entry : fs::directory_iterator("/tmp")) {
        if (entry.path().filename().string().starts_with("bpfleet-cgroup2.")) {
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
        BPFLEET_REQUIRE(!bpf::find_cgroup2_mount().empty(), "no cgroup2 hierarchy to count");
    }
};

// The counts see what the test objects load, and nothing another program on
// the machine loads meanwhile.
TEST_F(Leaks, CountsOnlyWhatTheTestObjectsLoad) {
    const Resources before = snapshot();

    const struct bpf_insn ret0[] = {
        {.code = 0xb7, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0}, // r0 = 0
        {.code = 0x95, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0}, // exit
    };
    const int foreign = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "not_bpfleet", "GPL", ret0,
                                      std::size(ret0), nullptr);
    ASSERT_GE(foreign, 0) << "loading a foreign program: " << std::strerror(errno);
    EXPECT_EQ(snapshot(), before) << "a program of another name was counted";

    bpf_object* obj = bpf_object__open_file(test_object("pass").c_str(), nullptr);
    ASSERT_NE(obj, nullptr);
    ASSERT_EQ(bpf_object__load(obj), 0);
    const Resources loaded = snapshot();
    EXPECT_GT(loaded.programs, before.programs);
    EXPECT_GT(loaded.maps, before.maps);
    bpf_object__close(obj);
    close(foreign);
    EXPECT_EQ(settle(before), before);
}

TEST_F(Leaks, HundredChecksLeaveNothingBehind) {
    const Resources before = snapshot();
    const auto& objects = kHundredChecks;
    for (int i = 0; i < 100; ++i) {
        const auto& object = objects[static_cast<std::size_t>(i) % objects.size()];
        auto run = run_agent({"check", "--object", test_object(object)});
        ASSERT_TRUE(run.report) << object << ": " << run.parse_error << run.err;
    }
    EXPECT_EQ(settle(before), before);
}

TEST_F(Leaks, ChecksKilledWithSigkillLeaveNothingBehind) {
    const Resources before = snapshot();
    const std::string cgroup_root = bpf::find_cgroup2_mount();
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
