// `bpfleet run` over SSH, how the agent reaches a host and starts there
// (docs/ssh.md): one command per host that checks the cached agent and
// starts it, so nothing can swap the agent between its check and its start.

#include "ssh/ssh_run_fixture.hpp"

#include <atomic>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <string>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace bpfleet::test {
namespace {

// Waits (in a thread) for the first open of `watched` and then calls `swap`
// once: the moment a local attacker who controls a parent folder of
// --remote-dir would pick to put their own agent in place.
class SwapOnOpen {
public:
    SwapOnOpen(const fs::path& watched, std::function<void()> swap) : m_swap(std::move(swap)) {
        m_fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (m_fd >= 0 && ::inotify_add_watch(m_fd, watched.c_str(), IN_OPEN) >= 0) {
            m_thread = std::thread([this] { wait(); });
        }
    }
    ~SwapOnOpen() {
        m_stop = true;
        if (m_thread.joinable()) {
            m_thread.join();
        }
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    SwapOnOpen(const SwapOnOpen&) = delete;
    SwapOnOpen& operator=(const SwapOnOpen&) = delete;

    [[nodiscard]] bool watching() const { return m_thread.joinable(); }
    [[nodiscard]] bool swapped() const { return m_swapped; }

private:
    void wait() {
        while (!m_stop) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, 50) == 1) {
                char buf[4096];
                if (::read(m_fd, buf, sizeof buf) > 0) {
                    m_swap();
                    m_swapped = true;
                    return;
                }
            }
        }
    }

    int m_fd = -1;
    std::function<void()> m_swap;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_swapped{false};
};

// Issue: the cached agent was hashed by one command and run by the next, by
// its path. A local user who owns a folder above --remote-dir renamed the
// checked folder away the moment the hash opened the agent and put a folder
// of their own with their own agent-<sha> in its place: the next command ran
// their program as the fleet user, and the report said ok with the right
// hash. Now the one command that checks the cached agent (in the folder it
// has entered, owned by the SSH user, mode 0700) also starts it from there.
TEST_F(SshRun, CachedAgentSwappedAfterItsCheckNeverRuns) {
    ASSERT_TRUE(s_users_error.empty()) << s_users_error;
    const passwd* other = ::getpwnam(kNoSudoUser);
    ASSERT_NE(other, nullptr);
    auto a = sshd("a");
    ASSERT_SSHD(a);
    auto inv = inventory({host("host-a", *a)});
    // A shared folder that the other user owns and anyone may write into.
    const fs::path shared = user_dir(kNoSudoUser) / "shared";
    fs::create_directories(shared);
    ASSERT_EQ(::chown(shared.c_str(), other->pw_uid, other->pw_gid), 0);
    fs::permissions(shared, fs::perms(0777));
    m_remote = shared / "cache";

    auto first = run(inv, {"pass"}, {}, dir() / "out-1");
    ASSERT_EQ(first.exit_code, 0) << first.describe();
    const std::string agent_name = "agent-" + agent_sha256();
    ASSERT_TRUE(fs::exists(m_remote / agent_name));

    // The other user's folder with their own "agent": it leaves a mark and
    // then runs the real one, so the run itself looks fine.
    const fs::path theirs = shared / "theirs";
    const fs::path mark = dir() / "their-agent-ran";
    fs::create_directories(theirs);
    {
        std::ofstream s(theirs / agent_name);
        s << "#!/bin/sh\ntouch " << mark.string() << "\nexec " << BPFLEET_AGENT_PATH << " \"$@\"\n";
    }
    fs::permissions(theirs / agent_name, fs::perms(0755));
    fs::permissions(theirs, fs::perms(0755));
    ASSERT_EQ(::chown((theirs / agent_name).c_str(), other->pw_uid, other->pw_gid), 0);
    ASSERT_EQ(::chown(theirs.c_str(), other->pw_uid, other->pw_gid), 0);

    // Both renames are the other user's right: `shared` is theirs.
    SwapOnOpen swap(m_remote / agent_name, [&] {
        std::error_code ec;
        fs::rename(m_remote, shared / "checked", ec);
        fs::rename(theirs, m_remote, ec);
    });
    ASSERT_TRUE(swap.watching()) << "inotify";
    auto second = run(inv, {"pass"}, {}, dir() / "out-2");
    EXPECT_FALSE(fs::exists(mark)) << "the other user's agent ran as the fleet user\n"
                                   << second.describe();
    LOAD_REPORT(rep, dir() / "out-2", second);
    FIND_HOST(h, rep, "host-a", second);
    // Either the real agent ran (it was started before the swap) or the
    // host was refused; never the other user's program.
    if (str(*h, "status") == "ok") {
        EXPECT_EQ(str((*h)["agent"], "sha256"), agent_sha256());
        EXPECT_FALSE((*h)["agent"].value("uploaded", true));
    } else {
        EXPECT_EQ(str(*h, "status"), "agent_error") << hosts_summary(rep);
    }
}

// A warm host costs one session and one command: the cached agent is checked
// and started by the same exec request. A cold host uploads over that same
// command's stdin: still one.
TEST_F(SshRun, OneExecRequestPerHostColdAndWarm) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    auto inv = inventory({host("host-a", *a)});
    for (const char* round : {"cold", "warm"}) {
        const auto offset = a->log_size();
        auto r = run(inv, {"pass"}, {}, dir() / (std::string("out-") + round));
        ASSERT_EQ(r.exit_code, 0) << round << "\n" << r.describe();
        LOAD_REPORT(rep, dir() / (std::string("out-") + round), r);
        FIND_HOST(h, rep, "host-a", r);
        EXPECT_EQ((*h)["agent"].value("uploaded", false), std::string(round) == "cold") << round;
        EXPECT_EQ(a->log_count("session_new", offset), 1) << round << "\n" << a->log(offset);
        EXPECT_EQ(a->log_count("request exec", offset), 1) << round << "\n" << a->log(offset);
    }
}

// Issue: a host could hold its upload until the command timeout, the
// controller waiting for an SSH window that never opened while the host
// answered every keepalive. Here the host's command announces that it wants
// the agent and then never reads it (the 20 MB agent is ten times sshd's
// window): the upload ends after two keepalive intervals without progress,
// an agent_error that says so, long before the 60 s command timeout (which
// would be a timeout status).
TEST_F(SshRun, AnUploadTheHostStopsTakingEndsWithoutWaitingForTheTimeout) {
    auto a = sshd(
        "a", SshdOptions{.extra_config = {"ForceCommand echo 'bpfleet-deploy have=no arch=x86_64 "
                                          "dir=/nonexistent'; exec sleep 90"}});
    ASSERT_SSHD(a);
    HostSpec spec = host("host-a", *a);
    spec.command_timeout = 60;
    auto inv = inventory({spec});
    auto r = run(inv, {"pass"}, {"--keepalive", "1", "--host-retries", "0"});
    EXPECT_NE(r.exit_code, 0) << r.describe();
    LOAD_REPORT(rep, m_out, r);
    FIND_HOST(h, rep, "host-a", r);
    EXPECT_EQ((*h).value("status", ""), "agent_error") << h->dump();
    EXPECT_NE(h->dump().find("took none of the input for 2 s"), std::string::npos) << h->dump();
}

// A --remote-dir that the SSH user does not own is refused before anything
// runs from it.
TEST_F(SshRun, RemoteDirOwnedBySomeoneElseIsRefused) {
    ASSERT_TRUE(s_users_error.empty()) << s_users_error;
    auto a = sshd("a");
    ASSERT_SSHD(a);
    m_remote = user_dir(kNoSudoUser) / "cache";
    fs::create_directories(m_remote);
    const passwd* other = ::getpwnam(kNoSudoUser);
    ASSERT_NE(other, nullptr);
    ASSERT_EQ(::chown(m_remote.c_str(), other->pw_uid, other->pw_gid), 0);
    auto r = run(inventory({host("host-a", *a)}), {"pass"});
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(h, rep, "host-a", r);
    EXPECT_EQ(str(*h, "status"), "agent_error") << hosts_summary(rep);
    EXPECT_EQ(str(*h, "stage"), "deploy") << hosts_summary(rep);
    EXPECT_NE(str(*h, "error").find("not a folder owned by"), std::string::npos)
        << str(*h, "error");
    EXPECT_FALSE(fs::exists(m_remote / ("agent-" + agent_sha256())));
}

} // namespace
} // namespace bpfleet::test
