// lab/vm without booting a VM (tests/lab/ boots real ones): the QEMU command
// line, recognising a QEMU by pid file, the SSH banner probe, the console tail.
#include "common/subprocess.hpp"
#include "lab/vm.hpp"
#include "support/temp_dir.hpp"

#include <arpa/inet.h>
#include <fstream>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace bpfleet;
using namespace bpfleet::lab;
using namespace std::chrono_literals;

namespace {

// A listening socket on 127.0.0.1 that answers each connection with `banner`.
class Listener {
public:
    explicit Listener(std::string banner) : m_banner(std::move(banner)) {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        ::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::listen(m_fd, 4);
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
        m_port = ntohs(addr.sin_port);
        m_thread = std::thread([this] {
            int c = ::accept(m_fd, nullptr, nullptr);
            if (c >= 0) {
                if (!m_banner.empty()) {
                    (void)!::write(c, m_banner.data(), m_banner.size());
                }
                std::this_thread::sleep_for(300ms);
                ::close(c);
            }
        });
    }
    ~Listener() {
        ::shutdown(m_fd, SHUT_RDWR);
        m_thread.join();
        ::close(m_fd);
    }
    [[nodiscard]] int port() const { return m_port; }

private:
    std::string m_banner;
    int m_fd = -1;
    int m_port = 0;
    std::thread m_thread;
};

} // namespace

TEST(LabQemu, CommandForwardsSshOnLoopbackOnlyAndUsesTheKernelsMachine) {
    QemuSettings settings;
    auto argv = qemu_command(*find_lab_kernel("6.1-armhf"), "/labs/a,b/vms/x", 41000, settings);
    auto has = [&](const std::string& a, const std::string& b) {
        for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
            if (argv[i] == a && argv[i + 1] == b) {
                return true;
            }
        }
        return false;
    };
    EXPECT_EQ(argv[0], "qemu-system-arm");
    EXPECT_TRUE(has("-M", "virt"));
    EXPECT_TRUE(has("-cpu", "cortex-a15"));
    EXPECT_TRUE(has("-accel", "tcg"));
    EXPECT_TRUE(has("-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:41000-:22"));
    EXPECT_TRUE(has("-pidfile", "/labs/a,b/vms/x/qemu.pid"));
    // A comma in a chardev path is doubled for QEMU's option parser.
    EXPECT_TRUE(has("-serial", "file:/labs/a,,b/vms/x/console.log"));
    EXPECT_TRUE(has("-append", "console=ttyAMA0 panic=-1 quiet rdinit=/init"));
    settings.kvm = true;
    argv = qemu_command(*find_lab_kernel("6.1-amd64"), "/l/vms/y", 41001, settings);
    EXPECT_TRUE(has("-accel", "kvm"));
    EXPECT_TRUE(has("-cpu", "host"));
}

TEST(LabQemu, APidFileOfAnotherProcessIsNotAQemuOfThisFolder) {
    test::TempDir dir("lab-unit");
    EXPECT_FALSE(running_qemu(dir.path())) << "no pid file";
    auto sleeper = Process::spawn({"sleep", "30"});
    ASSERT_TRUE(sleeper);
    std::ofstream(dir / "qemu.pid") << sleeper->pid() << "\n";
    EXPECT_FALSE(running_qemu(dir.path())) << "alive, but its command line is not this VM's";
    std::ofstream(dir / "qemu.pid") << "garbage\n";
    EXPECT_FALSE(running_qemu(dir.path()));
    // A process whose command line names this folder's pid file is one.
    auto fake = Process::spawn(
        {"sh", "-c", "sleep 30", "-pidfile", (fs::absolute(dir.path()) / "qemu.pid").string()});
    ASSERT_TRUE(fake);
    std::ofstream(dir / "qemu.pid") << fake->pid() << "\n";
    auto found = running_qemu(dir.path());
    ASSERT_TRUE(found);
    EXPECT_EQ(*found, fake->pid());
    stop_qemu(*found, 2s);
    EXPECT_TRUE(fake->wait_for(5s)) << "stop_qemu ends the process";
    EXPECT_FALSE(running_qemu(dir.path()));
}

TEST(LabSsh, OnlyABannerCountsAsAnswering) {
    Listener ssh("SSH-2.0-dropbear_2022.83\r\n");
    EXPECT_TRUE(ssh_answers(ssh.port(), 2s));
    // QEMU's user networking accepts before the guest listens: no banner.
    Listener silent("");
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(ssh_answers(silent.port(), 200ms));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    Listener http("HTTP/1.0 200 OK\r\n");
    EXPECT_FALSE(ssh_answers(http.port(), 1s));
    auto port = free_port();
    ASSERT_TRUE(port);
    EXPECT_FALSE(ssh_answers(*port, 1s)) << "nothing listens there";
}

TEST(LabConsole, TailKeepsTheLastLinesWithoutControlCharacters) {
    test::TempDir dir("lab-unit");
    EXPECT_EQ(console_tail(dir.path()), "(no console output)");
    std::ofstream out(dir / "console.log");
    for (int i = 0; i < 100; ++i) {
        out << "line " << i << "\x1b[0m\r\n";
    }
    out.close();
    std::string tail = console_tail(dir.path(), 3);
    EXPECT_EQ(tail, "line 97[0m\nline 98[0m\nline 99[0m\n");
}
