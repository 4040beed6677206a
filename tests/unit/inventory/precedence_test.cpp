// Precedence (src/inventory/precedence.cpp), through parse_inventory():
// host > groups > [defaults] > ssh_config > built-in, per key, with the origin
// of each value; tags and vars; paths made absolute.
#include "inventory/inventory.hpp"
#include "inventory_test_support.hpp"

#include <gtest/gtest.h>

namespace bpfleet::inventory {
namespace {

using namespace test;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Precedence, HostBeatsGroupBeatsDefaults) {
    auto inventory = parse_ok(R"(
[defaults]
user = "d"
port = 2000
become = false
command_timeout = 10

[groups.g]
hosts = ["a", "b"]
user = "g"
port = 3000

[hosts.a]
user = "h"

[hosts.b]

[hosts.c]
)");
    const auto& a = host(inventory, "a");
    EXPECT_EQ(a.user, "h");
    EXPECT_EQ(a.origins.at("user"), "host");
    EXPECT_EQ(a.port, 3000);
    EXPECT_EQ(a.origins.at("port"), "group g");
    EXPECT_EQ(a.command_timeout, seconds(10));
    EXPECT_EQ(a.origins.at("command_timeout"), "defaults");
    EXPECT_EQ(host(inventory, "b").user, "g");
    EXPECT_EQ(host(inventory, "c").user, "d");
    EXPECT_EQ(host(inventory, "c").port, 2000);
}

TEST(Precedence, BuiltInDefaults) {
    auto inventory = parse_ok("[hosts.plain]\n");
    const auto& h = host(inventory, "plain");
    EXPECT_EQ(h.address, "plain"); // the name doubles as the address
    EXPECT_EQ(h.origins.at("address"), "name");
    EXPECT_EQ(h.port, 22);
    EXPECT_EQ(h.user, "");
    EXPECT_FALSE(h.become);
    EXPECT_EQ(h.host_key_policy, HostKeyPolicy::Strict);
    EXPECT_EQ(h.connect_timeout, kDefaultConnectTimeout);
    EXPECT_EQ(h.command_timeout, kDefaultCommandTimeout);
    EXPECT_EQ(h.transport, Transport::Ssh);
    EXPECT_TRUE(h.identity_files.empty());
    EXPECT_TRUE(h.vars.is_object());
    EXPECT_EQ(h.source, "t.toml:1:1");
}

TEST(Precedence, GroupsThatAgreeAreFine) {
    auto inventory = parse_ok(R"(
[groups.x]
hosts = ["a"]
user = "same"
[groups.y]
hosts = ["a"]
user = "same"
[hosts.a]
)");
    EXPECT_EQ(host(inventory, "a").user, "same");
    EXPECT_EQ(host(inventory, "a").groups, (std::vector<std::string>{"x", "y"}));
}

TEST(Precedence, HostValueSettlesAGroupConflict) {
    auto inventory = parse_ok(R"(
[groups.x]
hosts = ["a"]
user = "one"
[groups.y]
hosts = ["a"]
user = "two"
[hosts.a]
user = "mine"
)");
    EXPECT_EQ(host(inventory, "a").user, "mine");
}

TEST(Precedence, TagsAreTheUnionOfAllLevels) {
    auto inventory = parse_ok(R"(
[defaults]
tags = ["fleet"]
[groups.g]
hosts = ["a"]
tags = ["grp", "shared"]
[hosts.a]
tags = ["shared", "own"]
)");
    EXPECT_EQ(host(inventory, "a").tags,
              (std::vector<std::string>{"fleet", "grp", "own", "shared"}));
}

TEST(Precedence, VarsMergePerKeyAndKeepTheirTypes) {
    auto inventory = parse_ok(R"(
[defaults]
vars = { site = "lab", rack = 1 }
[groups.g]
hosts = ["a"]
vars = { rack = 2, arch = "arm64" }
[hosts.a]
vars = { rack = 3, enabled = true, ratio = 0.5, list = [1, "two"], nested = { k = "v" }, day = 2024-05-01, at = 2024-05-01T10:20:30Z, local_at = 07:30:00 }
)");
    const auto& vars = host(inventory, "a").vars;
    EXPECT_EQ(vars["site"], "lab");
    EXPECT_EQ(vars["rack"], 3);
    EXPECT_EQ(vars["arch"], "arm64");
    EXPECT_EQ(vars["enabled"], true);
    EXPECT_EQ(vars["ratio"], 0.5);
    EXPECT_EQ(vars["list"], nlohmann::json::parse(R"([1, "two"])"));
    EXPECT_EQ(vars["nested"]["k"], "v");
    EXPECT_EQ(vars["day"], "2024-05-01");
    EXPECT_EQ(vars["at"], "2024-05-01T10:20:30Z");
    EXPECT_EQ(vars["local_at"], "07:30:00");
}

TEST(Precedence, VarsAreNeverTakenForSettings) {
    auto inventory = parse_ok(R"(
[groups.g]
hosts = ["a"]
vars = { jump = ["a"], port = "not a port" }
[hosts.a]
)");
    const auto& a = host(inventory, "a");
    EXPECT_EQ(a.vars["jump"], nlohmann::json::parse(R"(["a"])"));
    EXPECT_EQ(a.vars["port"], "not a port");
    EXPECT_EQ(a.port, 22);
}

TEST(Precedence, RelativePathsFollowTheInventoryFile) {
    auto inventory = parse_inventory(
        "[hosts.a]\nidentity_file = [\"keys/a\", \"/abs/b\", \"~/c\"]\nexternal_btf = \"btf/x\"\n"
        "known_hosts = \"lab/known_hosts\"\n",
        "/etc/bpfleet/lab.toml", nullptr, kEnv);
    ASSERT_TRUE(inventory) << inventory.error().describe();
    const auto& h = host(*inventory, "a");
    EXPECT_EQ(h.identity_files,
              (std::vector<std::string>{"/etc/bpfleet/keys/a", "/abs/b", "/home/tester/c"}));
    EXPECT_EQ(h.external_btf, "/etc/bpfleet/btf/x");
    EXPECT_EQ(h.known_hosts, "/etc/bpfleet/lab/known_hosts");
    EXPECT_EQ(h.endpoint().known_hosts, h.known_hosts);
}

TEST(Precedence, LocalTransport) {
    auto inventory = parse_ok(R"(
[defaults]
jump = "gw"
[hosts.gw]
[hosts.here]
transport = "local"
)");
    const auto& here = host(inventory, "here");
    EXPECT_EQ(here.transport, Transport::Local);
    EXPECT_EQ(here.address, "localhost");
    EXPECT_TRUE(here.jump_chain.empty()); // jumps mean nothing locally
}

TEST(InventorySshConfig, FillsWhatTheInventoryLeavesUnset) {
    auto config = ssh_config(R"(
Host rpi
    HostName 10.0.0.7
    Port 2207
    User pi
    IdentityFile ~/.ssh/rpi
    StrictHostKeyChecking accept-new
    ConnectTimeout 4
)");
    auto inventory = parse_ok(R"(
[hosts.board]
address = "rpi"
[hosts.board2]
address = "rpi"
user = "root"
port = 22
host_key_policy = "strict"
identity_file = "/keys/explicit"
connect_timeout = 9
)",
                              &config);
    const auto& b = host(inventory, "board");
    EXPECT_EQ(b.address, "10.0.0.7");
    EXPECT_EQ(b.origins.at("address"), "ssh_config");
    EXPECT_EQ(b.port, 2207);
    EXPECT_EQ(b.user, "pi");
    EXPECT_EQ(b.identity_files, std::vector<std::string>{"/home/tester/.ssh/rpi"});
    EXPECT_EQ(b.host_key_policy, HostKeyPolicy::AcceptNew);
    EXPECT_EQ(b.connect_timeout, seconds(4));
    EXPECT_EQ(b.origins.at("user"), "ssh_config");

    const auto& b2 = host(inventory, "board2");
    EXPECT_EQ(b2.address, "10.0.0.7"); // the address is the alias
    EXPECT_EQ(b2.port, 22);
    EXPECT_EQ(b2.user, "root");
    EXPECT_EQ(b2.host_key_policy, HostKeyPolicy::Strict);
    EXPECT_EQ(b2.identity_files, std::vector<std::string>{"/keys/explicit"});
    EXPECT_EQ(b2.connect_timeout, seconds(9));
}

TEST(InventorySshConfig, DefaultsAlsoBeatSshConfig) {
    auto config = ssh_config("Host *\n  User from-ssh\n  Port 2222\n");
    auto inventory = parse_ok("[defaults]\nuser = \"from-defaults\"\n[hosts.a]\n", &config);
    EXPECT_EQ(host(inventory, "a").user, "from-defaults");
    EXPECT_EQ(host(inventory, "a").port, 2222);
}

TEST(InventorySshConfig, HostNameWithoutAddressUsesTheNameAsAlias) {
    auto config = ssh_config("Host lab-*\n  HostName %h.lab.example.net\n");
    auto inventory = parse_ok("[hosts.lab-7]\n", &config);
    EXPECT_EQ(host(inventory, "lab-7").address, "lab-7.lab.example.net");
}

class PrecedenceErrors : public ::testing::TestWithParam<BadInventory> {};

TEST_P(PrecedenceErrors, NameFileLineColumn) {
    expect_inventory_error(GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Inventory, PrecedenceErrors,
    ::testing::Values(BadInventory{
        "group_conflict",
        "[groups.x]\nhosts = [\"a\"]\nuser = \"one\"\n[groups.y]\nhosts = [\"a\"]\n"
        "user = \"two\"\n[hosts.a]\n",
        "t.toml:7:1",
        "host 'a' gets 'user' from group x (\"one\", t.toml:3:8) and from group y "
        "(\"two\", t.toml:6:8)"}));

} // namespace
} // namespace bpfleet::inventory
