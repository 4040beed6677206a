// The command-line conventions users bring from Ansible and other CLIs:
// -f/-l, --list-hosts, '&' and @FILE in --limit, "did you mean" for flags,
// subcommands and hosts, every error as a `bpfleet:` line. Nothing here
// contacts a host: --list-hosts stops before, and the others fail earlier.
#include "oci/image_builder.hpp"
#include "ssh/cli_process.hpp"

#include <gtest/gtest.h>

namespace bpfleet::test {
namespace {

class CliConventions : public ::testing::Test {
protected:
    void SetUp() override {
        write_text(m_dir.path() / "fleet.toml", R"(
[defaults]
user = "lab"
host_key_policy = "accept-new"
[hosts.bastion]
address = "203.0.113.1"
jump_only = true
[groups.boards]
hosts = ["rpi4-01", "rock5b-01"]
tags = ["arm64"]
[hosts.rpi4-01]
address = "192.0.2.10"
jump = "bastion"
become = true
[hosts.rock5b-01]
address = "192.0.2.11"
port = 2222
tags = ["slow"]
[hosts.rhel9-app]
address = "192.0.2.20"
tags = ["slow"]
)");
    }
    CliResult bpfleet(std::vector<std::string> args) { return run_bpfleet(args, m_dir.path(), 60); }
    std::string inventory() const { return (m_dir.path() / "fleet.toml").string(); }

    TempDir m_dir;
};

TEST_F(CliConventions, ListHostsPrintsTheSelectionWithItsSettingsAndContactsNobody) {
    auto r = bpfleet({"probe", "-i", inventory(), "-l", "group:boards,&tag:slow", "--list-hosts"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("1 host(s) selected from " + inventory() +
                         " by --limit 'group:boards,&tag:slow'"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("rock5b-01"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("lab@192.0.2.11:2222"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("rpi4-01"), std::string::npos) << r.out;
    EXPECT_FALSE(std::filesystem::exists(m_dir.path() / "bpfleet-out")) << "nothing is written";

    auto all = bpfleet({"probe", "-i", inventory(), "--list-hosts"});
    ASSERT_EQ(all.exit_code, 0) << all.describe();
    EXPECT_NE(all.out.find("3 host(s) selected"), std::string::npos) << all.out;
    // The jump host and sudo show on rpi4-01's line; bastion is never a target.
    auto line = all.out.substr(all.out.find("  rpi4-01"));
    line = line.substr(0, line.find('\n'));
    EXPECT_NE(line.find("bastion"), std::string::npos) << line;
    EXPECT_NE(line.find("sudo"), std::string::npos) << line;
    EXPECT_NE(line.find("accept-new"), std::string::npos) << line;
    EXPECT_EQ(all.out.find("\n  bastion "), std::string::npos) << all.out;
}

TEST_F(CliConventions, AtFileSelectsTheHostsItLists) {
    write_text(m_dir.path() / "failed.txt", "# last night's failures\nrhel9-app\nrpi4-01\n");
    auto r = bpfleet({"probe", "-i", inventory(), "--limit",
                      "@" + (m_dir.path() / "failed.txt").string(), "--list-hosts", "-f", "5"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("2 host(s) selected"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("rock5b-01"), std::string::npos) << r.out;
}

TEST_F(CliConventions, MistakesGetTheNearestNameAndABpfleetPrefix) {
    auto flag = bpfleet({"probe", "-i", inventory(), "--limt", "x"});
    EXPECT_EQ(flag.exit_code, 2) << flag.describe();
    EXPECT_NE(flag.err.find("bpfleet: unknown option '--limt' for 'bpfleet probe' (did you mean "
                            "'--limit'?)"),
              std::string::npos)
        << flag.err;
    EXPECT_NE(flag.err.find("run 'bpfleet probe --help'"), std::string::npos) << flag.err;

    auto command = bpfleet({"prbe", "-i", inventory()});
    EXPECT_EQ(command.exit_code, 2) << command.describe();
    EXPECT_NE(command.err.find("unknown command 'prbe' (did you mean 'probe'?)"), std::string::npos)
        << command.err;

    auto host = bpfleet({"probe", "-i", inventory(), "-l", "rhel9-ap", "--list-hosts"});
    EXPECT_EQ(host.exit_code, 2) << host.describe();
    EXPECT_NE(host.err.find("unknown host rhel9-ap (did you mean 'rhel9-app'?)"), std::string::npos)
        << host.err;

    // Other parse errors keep CLI11's words behind the same prefix.
    auto range = bpfleet({"probe", "-i", inventory(), "-f", "0"});
    EXPECT_EQ(range.exit_code, 2) << range.describe();
    EXPECT_NE(range.err.find("bpfleet: "), std::string::npos) << range.err;
    EXPECT_NE(range.err.find("--forks"), std::string::npos) << range.err;
}

} // namespace
} // namespace bpfleet::test
