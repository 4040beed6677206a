// Jump chains (src/inventory/jump_chain.cpp), through parse_inventory():
// inventory hosts as hops, hops outside the inventory, ssh_config ProxyJump,
// cycles and bounds.
#include "inventory/inventory.hpp"
#include "inventory_test_support.hpp"

#include <gtest/gtest.h>

namespace bpfleet::inventory {
namespace {

using namespace test;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(InventoryJump, NestedInventoryJumpsExpandOutermostFirst) {
    auto inventory = parse_ok(R"(
[hosts.outer]
address = "outer.example.net"
[hosts.inner]
address = "10.0.0.1"
jump = "outer"
[hosts.target]
address = "10.1.0.1"
jump = "inner"
)");
    const auto& chain = host(inventory, "target").jump_chain;
    ASSERT_EQ(chain.size(), 2u);
    EXPECT_EQ(chain[0].label, "outer");
    EXPECT_EQ(chain[0].address, "outer.example.net");
    EXPECT_EQ(chain[1].label, "inner");
    EXPECT_EQ(chain[1].address, "10.0.0.1");
}

TEST(InventoryJump, ListFormAndArrayForm) {
    auto inventory = parse_ok(R"(
[hosts.a]
[hosts.b]
[hosts.t1]
jump = "a, root@b.example.net:2022"
[hosts.t2]
jump = ["a", "b"]
)");
    const auto& t1 = host(inventory, "t1").jump_chain;
    ASSERT_EQ(t1.size(), 2u);
    EXPECT_EQ(t1[0].label, "a");
    EXPECT_EQ(t1[1].user, "root");
    EXPECT_EQ(t1[1].address, "b.example.net");
    EXPECT_EQ(t1[1].port, 2022);
    const auto& t2 = host(inventory, "t2").jump_chain;
    ASSERT_EQ(t2.size(), 2u);
    EXPECT_EQ(t2[1].label, "b");
}

TEST(InventoryJump, InheritedJumpNamingTheHostItselfIsDropped) {
    auto inventory = parse_ok(R"(
[defaults]
jump = "bastion"
[hosts.bastion]
address = "bastion.example.net"
[hosts.board]
)");
    EXPECT_TRUE(host(inventory, "bastion").jump_chain.empty());
    ASSERT_EQ(host(inventory, "board").jump_chain.size(), 1u);
}

TEST(InventoryJump, NoneOverridesAnInheritedJump) {
    auto inventory = parse_ok(R"(
[defaults]
jump = "bastion"
[hosts.bastion]
[hosts.direct]
jump = "none"
[hosts.direct2]
jump = []
)");
    EXPECT_TRUE(host(inventory, "direct").jump_chain.empty());
    EXPECT_TRUE(host(inventory, "direct2").jump_chain.empty());
}

TEST(InventorySshConfig, ProxyJumpBecomesTheChainAndHopsResolveToo) {
    auto config = ssh_config(R"(
Host board
    HostName 10.20.0.5
    ProxyJump gw,ops@inner:2200
Host gw
    HostName gw.example.net
    User jumper
    Port 2022
    IdentityFile ~/.ssh/gw
    ProxyJump edge
Host edge
    HostName edge.example.net
)");
    auto inventory = parse_ok("[hosts.b]\naddress = \"board\"\n", &config);
    const auto& chain = host(inventory, "b").jump_chain;
    ASSERT_EQ(chain.size(), 3u);
    EXPECT_EQ(chain[0].address, "edge.example.net");
    EXPECT_EQ(chain[1].label, "gw");
    EXPECT_EQ(chain[1].address, "gw.example.net");
    EXPECT_EQ(chain[1].user, "jumper");
    EXPECT_EQ(chain[1].port, 2022);
    EXPECT_EQ(chain[1].identity_files, std::vector<std::string>{"/home/tester/.ssh/gw"});
    EXPECT_EQ(chain[2].address, "inner");
    EXPECT_EQ(chain[2].user, "ops");
    EXPECT_EQ(chain[2].port, 2200);
    EXPECT_EQ(host(inventory, "b").origins.at("jump"), "ssh_config");
}

TEST(InventorySshConfig, InventoryJumpWinsOverProxyJump) {
    auto config = ssh_config("Host *\n  ProxyJump elsewhere\n");
    auto inventory = parse_ok(R"(
[hosts.gw]
jump = "none"
[hosts.t]
jump = "gw"
)",
                              &config);
    const auto& chain = host(inventory, "t").jump_chain;
    ASSERT_EQ(chain.size(), 1u);
    EXPECT_EQ(chain[0].label, "gw");
}

TEST(InventorySshConfig, ProxyJumpLoopIsBounded) {
    auto config = ssh_config("Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n");
    auto inventory = parse_inventory("[hosts.t]\naddress = \"a\"\n", "t.toml", &config, kEnv);
    ASSERT_FALSE(inventory);
    EXPECT_NE(inventory.error().message.find("longer than"), std::string::npos);
}

class JumpChainErrors : public ::testing::TestWithParam<BadInventory> {};

TEST_P(JumpChainErrors, NameFileLineColumn) {
    expect_inventory_error(GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Inventory, JumpChainErrors,
    ::testing::Values(
        BadInventory{"unknown_jump", "[hosts.a]\njump = \"bastoin\"\n[hosts.bastion]\n",
                     "t.toml:2:8",
                     "unknown jump host 'bastoin': no [hosts.bastoin] in this inventory (did you "
                     "mean 'bastion'?)"},
        BadInventory{"jump_cycle",
                     "[hosts.a]\njump = \"b\"\n[hosts.b]\njump = \"c\"\n[hosts.c]\njump = \"a\"\n",
                     "t.toml:6:8", "jump cycle: a -> b -> c -> a"},
        BadInventory{"jump_self", "[hosts.a]\njump = \"a\"\n", "t.toml:2:8", "jump cycle: a -> a"},
        BadInventory{"jump_list_self", "[hosts.b]\n[hosts.a]\njump = \"b,a\"\n", "t.toml:3:8",
                     "jump cycle: a -> a"},
        BadInventory{"jump_to_local", "[hosts.l]\ntransport = \"local\"\n[hosts.a]\njump = \"l\"\n",
                     "t.toml:4:8", "has transport = \"local\""}));

} // namespace
} // namespace bpfleet::inventory
