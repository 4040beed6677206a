// `bpfleet lab up | status | down` on one real kernel (5.10-amd64, the
// quickest to boot), and every fault the lab must survive: an unknown kernel,
// a download that fails, a port already taken, a VM that never opens SSH, a
// VM that panics, `up` twice, `down` with nothing running, Ctrl-C during
// `up`. After each: no QEMU left that the test did not keep, and no inventory
// naming a VM that is not up.
#include "lab_fixture.hpp"
#include "support/require.hpp"
#include "support/temp_dir.hpp"

#include <arpa/inet.h>
#include <csignal>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace bpfleet;
using namespace bpfleet::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kKernel = "5.10-amd64";
constexpr const char* kVm = "lab-5.10-amd64";

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class LabCli : public ::testing::Test {
protected:
    void SetUp() override {
        const std::string missing = missing_lab_tools();
        BPFLEET_REQUIRE(missing.empty(), "lab tools missing: " + missing);
        BPFLEET_REQUIRE(::geteuid() == 0, "the lab tier runs as root (the agent loads BPF)");
    }
    void TearDown() override {
        // Whatever a test left running in its folder is stopped here, and
        // counted as a failure: nothing may outlive a lab command's undo.
        if (fs::exists(m_dir.path() / "vms")) {
            run_bpfleet({"lab", "down", "--dir", m_dir.path().string()});
        }
        for (int pid : processes_mentioning(vms())) {
            ADD_FAILURE() << "process " << pid << " outlived the test: "
                          << slurp("/proc/" + std::to_string(pid) + "/cmdline");
            ::kill(pid, SIGKILL);
        }
    }

    std::vector<std::string> up_args(const std::vector<std::string>& extra = {}) const {
        std::vector<std::string> args = {
            "lab", "up", "--dir", dir(), "--cache", lab_cache().string(), "--kernels", kKernel};
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    }
    [[nodiscard]] std::string dir() const { return m_dir.path().string(); }
    [[nodiscard]] fs::path inventory() const { return m_dir.path() / "inventory.toml"; }
    // QEMU and the image builders name this folder (bpfleet itself names
    // only --dir).
    [[nodiscard]] fs::path vms() const { return m_dir.path() / "vms"; }

    // A copy of the lab scripts whose lab-image.sh breaks the guest after
    // building it: `mode` "nossh" (dropbear replaced by a sleeper) or "panic"
    // (/init exits at once, which panics the kernel).
    fs::path broken_scripts(const std::string& mode) const {
        const fs::path scripts = m_dir.path() / ("scripts-" + mode);
        fs::create_directories(scripts);
        const fs::path real = fs::path(BPFLEET_SOURCE_DIR) / "scripts" / "lab";
        fs::create_symlink(real / "debian-fetch.sh", scripts / "debian-fetch.sh");
        const std::string body =
            mode == "nossh"
                ? "mkdir -p \"$t/usr/sbin\"; printf '#!/bin/sh\\nexec sleep 100000\\n' > "
                  "\"$t/usr/sbin/dropbear\"; chmod 755 \"$t/usr/sbin/dropbear\""
                : "printf '#!/bin/sh\\necho bpfleet-lab-test: init gives up\\nexit 1\\n' > "
                  "\"$t/init\"; chmod 755 \"$t/init\"";
        std::ofstream(scripts / "lab-image.sh")
            << "#!/usr/bin/env bash\nset -euo pipefail\n"
            << "bash " << (real / "lab-image.sh").string() << " \"$@\"\n"
            << "out=\nwhile (($#)); do [[ $1 == --out ]] && out=$2; shift; done\n"
            << "t=$(mktemp -d)\n"
            << body << "\n"
            << "(cd \"$t\" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) >> "
               "\"$out/initrd.img\"\nrm -rf \"$t\"\n";
        return scripts;
    }

    TempDir m_dir{"bpfleet-lab-cli"};
};

} // namespace

TEST_F(LabCli, AnUnknownKernelIsRefusedBeforeAnythingIsMade) {
    const fs::path where = m_dir.path() / "never";
    auto r =
        run_bpfleet({"lab", "up", "--dir", where.string(), "--kernels", "6.1-amd64,4.19-amd64"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_TRUE(contains(r.err, "unknown lab kernel '4.19-amd64'")) << r.err;
    EXPECT_TRUE(contains(r.err, "6.1-armhf")) << "the message lists the known kernels: " << r.err;
    EXPECT_FALSE(fs::exists(where)) << "nothing is created for a refused command";
}

TEST_F(LabCli, DownAndStatusWithNothingRunningSaySo) {
    auto down = run_bpfleet({"lab", "down", "--dir", dir()});
    EXPECT_EQ(down.exit_code, 0) << down.describe();
    EXPECT_TRUE(contains(down.out, "no lab VM is running")) << down.describe();
    auto status = run_bpfleet({"lab", "status", "--dir", dir()});
    EXPECT_EQ(status.exit_code, 0) << status.describe();
    EXPECT_TRUE(contains(status.out, "no lab VM is running")) << status.describe();
    EXPECT_FALSE(fs::exists(inventory()));
}

// up, up again (nothing changes), status, a real run through the generated
// inventory, down (the QEMU is gone, and so are inventory and known_hosts).
TEST_F(LabCli, UpIsIdempotentTheInventoryWorksAndDownStopsTheVm) {
    auto up = run_bpfleet(up_args());
    ASSERT_EQ(up.exit_code, 0) << up.describe();
    ASSERT_TRUE(fs::exists(inventory())) << up.describe();
    const std::string inv = slurp(inventory());
    EXPECT_TRUE(contains(inv, std::string("[hosts.\"") + kVm + "\"]")) << inv;
    EXPECT_TRUE(contains(inv, R"(tags = ["lab", "amd64", "x86_64", "5.10", "btf"])")) << inv;
    const std::string pid = slurp(m_dir.path() / "vms" / kVm / "qemu.pid");
    ASSERT_FALSE(pid.empty());
    EXPECT_EQ(processes_mentioning(vms()).size(), 1u) << "one QEMU, nothing else";

    auto again = run_bpfleet(up_args());
    EXPECT_EQ(again.exit_code, 0) << again.describe();
    EXPECT_TRUE(contains(again.err, std::string(kVm) + " is already up")) << again.describe();
    EXPECT_EQ(slurp(m_dir.path() / "vms" / kVm / "qemu.pid"), pid) << "the same QEMU";
    EXPECT_EQ(slurp(inventory()), inv) << "the same inventory (same port)";

    auto status = run_bpfleet({"lab", "status", "--dir", dir()});
    EXPECT_EQ(status.exit_code, 0) << status.describe();
    EXPECT_TRUE(contains(status.out, kVm)) << status.out;
    EXPECT_TRUE(contains(status.out, " up ")) << status.out;

    // The SSH transport reaches it unchanged: strict host keys from the
    // lab's own known_hosts, the lab's client key, the normal agent upload.
    auto run = run_bpfleet({"run", "-i", inventory().string(), "-a",
                            std::string(BPFLEET_TEST_BPF_DIR) + "/pass.bpf.o", "-o",
                            (m_dir.path() / "out").string()},
                           {{"HOME", m_dir.path().string()}}, 300s);
    EXPECT_EQ(run.exit_code, 0) << run.describe();
    // One host: the table collapses it into "1/1  all"; the report names it.
    EXPECT_TRUE(contains(run.out, "1/1  all")) << run.out;
    std::ifstream report(m_dir.path() / "out" / "report.json");
    const std::string report_text((std::istreambuf_iterator<char>(report)), {});
    EXPECT_TRUE(contains(report_text, "\"" + std::string(kVm) + "\"")) << report_text;

    auto down = run_bpfleet({"lab", "down", "--dir", dir()});
    EXPECT_EQ(down.exit_code, 0) << down.describe();
    EXPECT_TRUE(contains(down.out, std::string("stopped ") + kVm)) << down.describe();
    EXPECT_TRUE(processes_mentioning(vms()).empty());
    EXPECT_FALSE(fs::exists(inventory()));
    EXPECT_FALSE(fs::exists(m_dir.path() / "known_hosts"));
    auto status2 = run_bpfleet({"lab", "status", "--dir", dir()});
    EXPECT_TRUE(contains(status2.out, "no lab VM is running")) << status2.describe();
}

TEST_F(LabCli, APortAlreadyTakenIsNamedAndNothingIsLeftRunning) {
    // 5.10-amd64 is the first kernel of the table: it gets --base-port itself.
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    const int port = ntohs(addr.sin_port);
    auto r = run_bpfleet(up_args({"--base-port", std::to_string(port)}));
    ::close(fd);
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_TRUE(contains(r.err, "port " + std::to_string(port) + " on 127.0.0.1 is taken"))
        << r.describe();
    EXPECT_TRUE(processes_mentioning(vms()).empty());
    EXPECT_FALSE(fs::exists(inventory())) << slurp(inventory());
}

TEST_F(LabCli, AVmThatNeverOpensSshIsStoppedAndReportedWithItsConsole) {
    auto r = run_bpfleet(up_args({"--timeout", "25"}),
                         {{"BPFLEET_LAB_SCRIPTS", broken_scripts("nossh").string()}});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_TRUE(contains(r.err, "SSH did not answer within 25 s")) << r.describe();
    EXPECT_TRUE(contains(r.err, "bpfleet-lab: sshd started")) << "the console's tail: " << r.err;
    EXPECT_TRUE(contains(r.err, "console.log")) << r.err;
    EXPECT_TRUE(processes_mentioning(vms()).empty());
    EXPECT_FALSE(fs::exists(inventory()));
}

TEST_F(LabCli, AKernelPanicIsReportedWithItsConsole) {
    auto r = run_bpfleet(up_args(), {{"BPFLEET_LAB_SCRIPTS", broken_scripts("panic").string()}});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_TRUE(contains(r.err, "QEMU ended before SSH answered")) << r.describe();
    EXPECT_TRUE(contains(r.err, "Kernel panic - not syncing: Attempted to kill init"))
        << "the panic, named: " << r.err;
    EXPECT_TRUE(processes_mentioning(vms()).empty());
    EXPECT_FALSE(fs::exists(inventory()));
}

TEST_F(LabCli, ADownloadThatFailsIsReportedAndNothingBoots) {
    // A fresh cache and an archive that is not there: nothing to fall back on.
    TempDir cache("bpfleet-lab-nocache");
    auto r = run_bpfleet(
        {"lab", "up", "--dir", dir(), "--cache", cache.path().string(), "--kernels", kKernel},
        {{"BPFLEET_DEBIAN_MIRROR", "http://127.0.0.1:9/debian"}}, 300s);
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_TRUE(contains(r.err, "could not make its kernel and initramfs")) << r.describe();
    EXPECT_TRUE(contains(r.err, "apt-get update for amd64")) << r.describe();
    EXPECT_TRUE(contains(r.err, "failed: W: Failed to fetch http://127.0.0.1:9/debian"))
        << r.describe();
    EXPECT_TRUE(processes_mentioning(vms()).empty());
    EXPECT_FALSE(fs::exists(inventory()));
}

TEST_F(LabCli, CtrlCDuringUpStopsWhatItStartedAndLeavesNoInventory) {
    SpawnOptions options;
    options.err = Stdio::pipe();
    options.out = Stdio::null();
    auto up = Process::spawn(bpfleet_argv(up_args()), options);
    ASSERT_TRUE(up);
    // Interrupt once QEMU runs: the moment an orphan would be made.
    std::string err;
    const auto until = std::chrono::steady_clock::now() + 240s;
    while (!contains(err, ": booting (") && std::chrono::steady_clock::now() < until) {
        pollfd p{up->stderr_fd().get(), POLLIN, 0};
        if (::poll(&p, 1, 500) > 0) {
            char buf[4096];
            ssize_t n = ::read(up->stderr_fd().get(), buf, sizeof buf);
            if (n <= 0) {
                break;
            }
            err.append(buf, static_cast<std::size_t>(n));
        }
    }
    ASSERT_TRUE(contains(err, ": booting (")) << err;
    ASSERT_EQ(processes_mentioning(vms()).size(), 1u) << "QEMU runs";
    ::kill(up->pid(), SIGINT);
    auto status = up->wait_for(60s);
    ASSERT_TRUE(status) << "lab up did not end after SIGINT";
    EXPECT_EQ(status->code(), 130) << status->describe() << "\n" << err;
    EXPECT_TRUE(processes_mentioning(vms()).empty()) << "no orphaned QEMU";
    EXPECT_FALSE(fs::exists(inventory()));
    EXPECT_FALSE(fs::exists(m_dir.path() / "vms" / kVm / "qemu.pid"));
}
