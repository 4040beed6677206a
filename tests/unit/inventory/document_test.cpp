// read_document() (src/inventory/document.cpp), through parse_inventory():
// every key and value checked where it is written, group membership from
// either side.
#include "inventory/inventory.hpp"
#include "inventory_test_support.hpp"

#include <gtest/gtest.h>

namespace bpfleet::inventory {
namespace {

using namespace test;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Document, FractionalTimeouts) {
    auto inventory = parse_ok("[hosts.a]\nconnect_timeout = 1.5\ncommand_timeout = 2\n");
    EXPECT_EQ(host(inventory, "a").connect_timeout, milliseconds(1500));
    EXPECT_EQ(host(inventory, "a").command_timeout, milliseconds(2000));
}

TEST(Document, MembershipFromEitherSide) {
    auto inventory = parse_ok(R"(
[groups.arm]
tags = ["arm64"]
become = true
[hosts.a]
groups = ["arm"]
[hosts.b]
groups = ["new-group"]
)");
    EXPECT_TRUE(host(inventory, "a").become);
    EXPECT_EQ(host(inventory, "a").tags, std::vector<std::string>{"arm64"});
    ASSERT_NE(inventory.find_group("new-group"), nullptr);
    EXPECT_EQ(inventory.find_group("new-group")->hosts, std::vector<std::string>{"b"});
}

class DocumentErrors : public ::testing::TestWithParam<BadInventory> {};

TEST_P(DocumentErrors, NameFileLineColumn) {
    expect_inventory_error(GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Inventory, DocumentErrors,
    ::testing::Values(
        BadInventory{"syntax", "[hosts.a]\nport = \n", "t.toml:2:8", "expected value"},
        BadInventory{"duplicate_table", "[hosts.a]\n[hosts.a]\n", "t.toml:2:1",
                     "cannot redefine existing table 'hosts.a'"},
        BadInventory{"duplicate_key", "[hosts.a]\nport = 1\nport = 2\n", "t.toml:3:8",
                     "cannot redefine existing integer 'port'"},
        BadInventory{"unknown_key", "[hosts.a]\nadress = \"x\"\n", "t.toml:2:1",
                     "unknown key 'adress' in [hosts.a] (did you mean 'address'?)"},
        BadInventory{"unknown_top", "[host.a]\n", "t.toml:1:2",
                     "unknown top-level key 'host' (expected [defaults], [hosts.NAME] or "
                     "[groups.NAME]) (did you mean 'hosts'?)"},
        BadInventory{"address_in_defaults", "[defaults]\naddress = \"x\"\n[hosts.a]\n",
                     "t.toml:2:1", "'address' is per host"},
        BadInventory{"hosts_in_host", "[hosts.a]\nhosts = []\n", "t.toml:2:1",
                     "'hosts' belongs in [groups.NAME]"},
        BadInventory{"port_type", "[hosts.a]\nport = \"22\"\n", "t.toml:2:8",
                     "'hosts.a.port' must be an integer port number, not a string"},
        BadInventory{"port_range", "[hosts.a]\nport = 70000\n", "t.toml:2:8",
                     "'hosts.a.port' = 70000 is out of range (1..65535)"},
        BadInventory{"port_zero", "[defaults]\nport = 0\n[hosts.a]\n", "t.toml:2:8",
                     "'defaults.port' = 0 is out of range"},
        BadInventory{"empty_address", "[hosts.a]\naddress = \"\"\n", "t.toml:2:11",
                     "'hosts.a.address' is empty"},
        BadInventory{"address_space", "[hosts.a]\naddress = \"a b\"\n", "t.toml:2:11",
                     "contains a space"},
        BadInventory{"bad_policy", "[hosts.a]\nhost_key_policy = \"yes\"\n", "t.toml:2:19",
                     "\"yes\" is not a host-key policy (\"strict\", \"accept-new\" or \"off\")"},
        BadInventory{"bad_transport", "[groups.g]\ntransport = \"telnet\"\n[hosts.a]\n",
                     "t.toml:2:13", "is not a transport"},
        BadInventory{"become_type", "[hosts.a]\nbecome = \"yes\"\n", "t.toml:2:10",
                     "must be true or false, not a string"},
        BadInventory{"timeout_negative", "[hosts.a]\nconnect_timeout = -1\n", "t.toml:2:19",
                     "above 0"},
        BadInventory{"timeout_type", "[hosts.a]\ncommand_timeout = \"5m\"\n", "t.toml:2:19",
                     "a number of seconds"},
        BadInventory{"tags_type", "[hosts.a]\ntags = \"arm\"\n", "t.toml:2:8",
                     "must be an array of tag names"},
        BadInventory{"tag_name", "[hosts.a]\ntags = [\"ok\", \"not ok\"]\n", "t.toml:2:15",
                     "'not ok' is not a valid tag name"},
        BadInventory{"duplicate_tag", "[hosts.a]\ntags = [\"x\", \"x\"]\n", "t.toml:2:14",
                     "tag 'x' is listed twice"},
        BadInventory{"vars_type", "[hosts.a]\nvars = 1\n", "t.toml:2:8", "must be a table"},
        BadInventory{"host_name", "[hosts.\"a/b\"]\n", "t.toml:1:8",
                     "host name 'a/b' is not valid"},
        BadInventory{"host_not_table", "[hosts]\na = 1\n", "t.toml:2:5",
                     "'hosts.a' must be a table"},
        BadInventory{"no_hosts", "[defaults]\nuser = \"x\"\n", "t.toml", "defines no hosts"},
        BadInventory{"unknown_member",
                     "[groups.g]\nhosts = [\"a\", \"bb\"]\n[hosts.a]\n[hosts.b]\n", "t.toml:2:15",
                     "unknown host 'bb' in groups.g.hosts (did you mean 'b'?)"},
        BadInventory{"duplicate_member", "[groups.g]\nhosts = [\"a\", \"a\"]\n[hosts.a]\n",
                     "t.toml:2:15", "host 'a' is listed twice"},
        BadInventory{"duplicate_group", "[hosts.a]\ngroups = [\"g\", \"g\"]\n", "t.toml:2:16",
                     "group 'g' is listed twice"},
        BadInventory{"jump_bad_port", "[hosts.a]\njump = \"u@h:99999\"\n", "t.toml:2:8",
                     "jump host 'u@h:99999': port '99999'"},
        BadInventory{"password", "[hosts.a]\npassword = \"hunter2\"\n", "t.toml:2:1",
                     "credentials are not accepted in the inventory; use key files "
                     "(identity_file) or ssh-agent"},
        BadInventory{"become_password", "[defaults]\nbecome_password = \"x\"\n[hosts.a]\n",
                     "t.toml:2:1", "credentials are not accepted"},
        BadInventory{"passphrase_in_vars", "[hosts.a]\nvars = { key_passphrase = \"x\" }\n",
                     "t.toml:2:10", "credentials are not accepted"},
        BadInventory{"top_password", "password = \"x\"\n[hosts.a]\n", "t.toml:1:1",
                     "credentials are not accepted"}));

} // namespace
} // namespace bpfleet::inventory
