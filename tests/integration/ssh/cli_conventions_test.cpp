// The command-line conventions users bring from Ansible and other CLIs:
// -f/-l, --list-hosts, '&' and @FILE in --limit, "did you mean" for flags,
// subcommands and hosts, every error as a `bpfleet:` line, every bad input
// named in one go, one --version, --color and NO_COLOR. Nothing here
// contacts a host: --list-hosts stops before, and the others fail earlier.
#include "oci/image_builder.hpp"
#include "ssh/cli_process.hpp"
#include "support/scoped_env.hpp"

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

// Counts the lines of `text` that hold `needle`.
int lines_with(const std::string& text, const std::string& needle) {
    int n = 0;
    std::size_t at = 0;
    while ((at = text.find(needle, at)) != std::string::npos) {
        ++n;
        at = text.find('\n', at);
    }
    return n;
}

TEST_F(CliConventions, EveryBadInputIsNamedInOneRunBeforeAnyHost) {
    // Two mistakes in one inventory: both, each at its line.
    write_text(m_dir.path() / "two.toml", R"([hosts.a]
address = "192.0.2.1"
prot = 22
[hosts.b]
address = "192.0.2.2"
port = 99999
)");
    auto inv = bpfleet({"probe", "-i", (m_dir.path() / "two.toml").string(), "--list-hosts"});
    EXPECT_EQ(inv.exit_code, 2) << inv.describe();
    EXPECT_NE(inv.err.find("two.toml:3:1: unknown key 'prot' in [hosts.a] (did you mean 'port'?)"),
              std::string::npos)
        << inv.err;
    EXPECT_NE(inv.err.find("two.toml:6:8: 'hosts.b.port' = 99999 is out of range"),
              std::string::npos)
        << inv.err;
    EXPECT_LT(inv.err.find("two.toml:3:"), inv.err.find("two.toml:6:")) << "in the file's order";

    // Several bad -a, a bad fixups file and an identity file that is not
    // there (set once, used by two hosts): every one, then the count, exit 2.
    write_text(m_dir.path() / "keys.toml", R"([defaults]
identity_file = "keys/lab_ed25519"
[hosts.a]
address = "192.0.2.1"
[hosts.b]
address = "192.0.2.2"
)");
    write_text(m_dir.path() / "notes.txt", "not an object\n");
    write_text(m_dir.path() / "fixups.toml", "[maps.events]\nmax_entires = 4\n");
    auto all = bpfleet({"run", "-i", (m_dir.path() / "keys.toml").string(), "-a",
                        (m_dir.path() / "missing.bpf.o").string(), "-a",
                        (m_dir.path() / "notes.txt").string(), "--fixups",
                        (m_dir.path() / "fixups.toml").string()});
    EXPECT_EQ(all.exit_code, 2) << all.describe();
    EXPECT_NE(all.err.find("missing.bpf.o"), std::string::npos) << all.err;
    EXPECT_NE(all.err.find("notes.txt"), std::string::npos) << all.err;
    EXPECT_NE(all.err.find("fixups.toml:2"), std::string::npos) << all.err;
    EXPECT_EQ(lines_with(all.err, "keys/lab_ed25519 cannot be read"), 1) << all.err;
    EXPECT_NE(all.err.find("keys.toml:2:17: identity file " +
                           (m_dir.path() / "keys/lab_ed25519").string() +
                           " cannot be read (No such file or directory); used by a, b"),
              std::string::npos)
        << all.err;
    EXPECT_NE(all.err.find("bpfleet: 4 problems with the command line and its inputs; no host "
                           "was contacted"),
              std::string::npos)
        << all.err;
    EXPECT_FALSE(std::filesystem::exists(m_dir.path() / "bpfleet-out")) << "nothing is written";
}

TEST_F(CliConventions, VersionFlagAndSubcommandSayTheSame) {
    auto flag = bpfleet({"--version"});
    auto sub = bpfleet({"version"});
    ASSERT_EQ(flag.exit_code, 0) << flag.describe();
    ASSERT_EQ(sub.exit_code, 0) << sub.describe();
    EXPECT_EQ(flag.out, sub.out);
    EXPECT_EQ(flag.out.rfind("bpfleet 0.1.0 (libbpf ", 0), 0u) << flag.out;
    EXPECT_NE(flag.out.find("\nagent x86_64 "), std::string::npos) << flag.out;
}

TEST_F(CliConventions, ColourOnATerminalOnlyAndNeverUnderNoColor) {
    const std::vector<std::string> args = {"probe", "-i",         inventory(),
                                           "-l",    "nosuchhost", "--list-hosts"};
    auto with = [&](std::vector<std::string> extra, bool terminal) {
        std::vector<std::string> a = args;
        a.insert(a.end(), extra.begin(), extra.end());
        CliProcess p(a, m_dir.path(), terminal);
        return p.wait(60);
    };
    ScopedEnv env;
    env.unset("NO_COLOR");
    env.set("TERM", "xterm");
    // A pipe: plain. A terminal: the error line in red. --color=always on a
    // pipe: red too; --color=never on a terminal: plain.
    auto piped = with({}, false);
    EXPECT_EQ(piped.exit_code, 2) << piped.describe();
    EXPECT_EQ(piped.err.find('\033'), std::string::npos) << piped.err;
    auto tty = with({}, true);
    EXPECT_EQ(tty.exit_code, 2) << tty.describe();
    EXPECT_NE(tty.out.find("\033[31mbpfleet: --limit: unknown host nosuchhost"), std::string::npos)
        << tty.describe();
    auto always = with({"--color=always"}, false);
    EXPECT_NE(always.err.find("\033[31mbpfleet: "), std::string::npos) << always.err;
    auto never = with({"--color", "never"}, true);
    EXPECT_EQ(never.out.find("\033["), std::string::npos) << never.describe();

    env.set("NO_COLOR", "1");
    auto no_color = with({}, true);
    EXPECT_EQ(no_color.exit_code, 2) << no_color.describe();
    EXPECT_EQ(no_color.out.find("\033["), std::string::npos) << no_color.describe();
    // An explicit --color=always still wins, as no-color.org allows.
    auto forced = with({"--color=always"}, false);
    EXPECT_NE(forced.err.find("\033[31m"), std::string::npos) << forced.err;

    auto bad = with({"--color=sometimes"}, false);
    EXPECT_EQ(bad.exit_code, 2) << bad.describe();
    EXPECT_NE(bad.err.find("--color"), std::string::npos) << bad.err;
}

} // namespace
} // namespace bpfleet::test
