#include "inventory/inventory.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

namespace bpfleet::inventory {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const LocalEnvironment kEnv{"/home/tester", "tester"};
const std::filesystem::path kSourceDir = BPFLEET_SOURCE_DIR;

Inventory parse_ok(std::string_view text, const SshConfig* ssh_config = nullptr) {
    auto inventory = parse_inventory(text, "t.toml", ssh_config, kEnv);
    EXPECT_TRUE(inventory) << (inventory ? "" : inventory.error().describe());
    return inventory ? *inventory : Inventory{};
}

Inventory load_example(const char* name) {
    InventoryOptions options;
    options.use_ssh_config = false;
    options.environment = kEnv;
    auto inventory = load_inventory(kSourceDir / "inventory" / name, options);
    EXPECT_TRUE(inventory) << (inventory ? "" : inventory.error().describe());
    return inventory ? *inventory : Inventory{};
}

const InventoryHost& host(const Inventory& inventory, std::string_view name) {
    const InventoryHost* h = inventory.find_host(name);
    if (!h) {
        ADD_FAILURE() << "no host " << name;
        static const InventoryHost kNone;
        return kNone;
    }
    return *h;
}

// ---- the examples in inventory/ ------------------------------------------

TEST(InventoryExamples, LocalSshd) {
    auto inventory = load_example("local-sshd.toml");
    ASSERT_EQ(inventory.hosts.size(), 3u);
    for (int i = 1; i <= 3; ++i) {
        const auto& h = host(inventory, "sshd-" + std::to_string(i));
        EXPECT_EQ(h.address, "127.0.0.1");
        EXPECT_EQ(h.port, 2200 + i);
        EXPECT_EQ(h.user, "root");
        EXPECT_EQ(h.host_key_policy, HostKeyPolicy::AcceptNew);
        EXPECT_EQ(h.transport, Transport::Ssh);
        EXPECT_EQ(h.connect_timeout, seconds(5));
        EXPECT_EQ(h.command_timeout, seconds(120));
        ASSERT_EQ(h.identity_files.size(), 1u);
        EXPECT_EQ(h.identity_files[0], (kSourceDir / "build/test-sshd/id_ed25519").string());
        EXPECT_TRUE(h.jump_chain.empty());
        EXPECT_NE(std::find(h.tags.begin(), h.tags.end(), "loopback"), h.tags.end());
    }
    EXPECT_EQ(host(inventory, "sshd-1").tags, (std::vector<std::string>{"canary", "loopback"}));
    EXPECT_EQ(host(inventory, "sshd-3").vars["note"], "same machine, third sshd");
}

TEST(InventoryExamples, Local) {
    auto inventory = load_example("local.toml");
    ASSERT_EQ(inventory.hosts.size(), 1u);
    const auto& h = inventory.hosts[0];
    EXPECT_EQ(h.name, "local");
    EXPECT_EQ(h.transport, Transport::Local);
    EXPECT_EQ(h.address, "localhost");
    EXPECT_TRUE(h.jump_chain.empty());
    EXPECT_EQ(h.tags, std::vector<std::string>{"local"});
}

TEST(InventoryExamples, Lab) {
    auto inventory = load_example("lab.toml");
    EXPECT_EQ(inventory.hosts.size(), 9u);

    const auto& bastion = host(inventory, "bastion");
    EXPECT_TRUE(bastion.jump_only);
    EXPECT_TRUE(bastion.jump_chain.empty());

    const auto& rpi4 = host(inventory, "rpi4-01");
    EXPECT_EQ(rpi4.user, "root");
    EXPECT_EQ(rpi4.origins.at("user"), "group boards");
    EXPECT_EQ(rpi4.connect_timeout, seconds(20));
    EXPECT_EQ(rpi4.command_timeout, seconds(900));
    EXPECT_EQ(rpi4.external_btf, (kSourceDir / "inventory/btf/rpi4-6.1.21-v8.btf").string());
    ASSERT_EQ(rpi4.identity_files.size(), 1u);
    EXPECT_EQ(rpi4.identity_files[0], "/home/tester/.ssh/bpfleet_ed25519");
    ASSERT_EQ(rpi4.jump_chain.size(), 1u);
    EXPECT_EQ(rpi4.jump_chain[0].label, "bastion");
    EXPECT_EQ(rpi4.jump_chain[0].address, "bastion.lab.example.net");
    EXPECT_EQ(rpi4.jump_chain[0].port, 2222);
    EXPECT_EQ(rpi4.jump_chain[0].user, "jump");
    EXPECT_EQ(rpi4.tags, (std::vector<std::string>{"arm64", "board", "raspberrypi"}));
    EXPECT_EQ(rpi4.vars["board"], "Raspberry Pi 4 Model B");
    EXPECT_EQ(rpi4.vars["site"], "lab-1");

    const auto& rock = host(inventory, "rock5b-01");
    EXPECT_EQ(rock.command_timeout, seconds(1800));
    EXPECT_EQ(rock.origins.at("command_timeout"), "host");

    const auto& rhel8 = host(inventory, "rhel8-db");
    EXPECT_TRUE(rhel8.become);
    EXPECT_EQ(rhel8.user, "svc-bpfleet");
    EXPECT_EQ(rhel8.external_btf, "/srv/btfhub-archive");
    EXPECT_TRUE(rhel8.jump_chain.empty());
    EXPECT_EQ(rhel8.host_key_policy, HostKeyPolicy::Strict);

    const auto& gce = host(inventory, "gce-n2");
    EXPECT_EQ(gce.host_key_policy, HostKeyPolicy::AcceptNew);
    ASSERT_EQ(gce.jump_chain.size(), 1u);
    EXPECT_EQ(gce.jump_chain[0].label, "ops@bastion.cloud.example.net:2222");
    EXPECT_EQ(gce.jump_chain[0].user, "ops");
    EXPECT_EQ(gce.jump_chain[0].address, "bastion.cloud.example.net");
    EXPECT_EQ(gce.jump_chain[0].port, 2222);
    EXPECT_EQ(gce.jump_chain[0].host_key_policy, HostKeyPolicy::Strict);

    const auto& vm = host(inventory, "ci-vm-1");
    EXPECT_EQ(vm.host_key_policy, HostKeyPolicy::Off);
    EXPECT_EQ(vm.groups, std::vector<std::string>{"ephemeral"});

    const InventoryGroup* ephemeral = inventory.find_group("ephemeral");
    ASSERT_NE(ephemeral, nullptr);
    EXPECT_TRUE(ephemeral->source.empty()); // implicit: only named by a host
    const InventoryGroup* boards = inventory.find_group("boards");
    ASSERT_NE(boards, nullptr);
    EXPECT_EQ(boards->hosts, (std::vector<std::string>{"rock5b-01", "rpi4-01", "rpi5-01"}));
}

// ---- precedence -----------------------------------------------------------

TEST(Inventory, HostBeatsGroupBeatsDefaults) {
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

TEST(Inventory, BuiltInDefaults) {
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

TEST(Inventory, FractionalTimeouts) {
    auto inventory = parse_ok("[hosts.a]\nconnect_timeout = 1.5\ncommand_timeout = 2\n");
    EXPECT_EQ(host(inventory, "a").connect_timeout, milliseconds(1500));
    EXPECT_EQ(host(inventory, "a").command_timeout, milliseconds(2000));
}

TEST(Inventory, GroupsThatAgreeAreFine) {
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

TEST(Inventory, HostValueSettlesAGroupConflict) {
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

TEST(Inventory, MembershipFromEitherSide) {
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

TEST(Inventory, TagsAreTheUnionOfAllLevels) {
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

TEST(Inventory, VarsMergePerKeyAndKeepTheirTypes) {
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

TEST(Inventory, VarsAreNeverTakenForSettings) {
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

TEST(Inventory, RelativePathsFollowTheInventoryFile) {
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

TEST(Inventory, LocalTransport) {
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

TEST(Inventory, LocalInventoryIsOneLocalHost) {
    auto inventory = local_inventory();
    ASSERT_EQ(inventory.hosts.size(), 1u);
    EXPECT_EQ(inventory.hosts[0].name, "localhost");
    EXPECT_EQ(inventory.hosts[0].transport, Transport::Local);
}

// ---- jump hosts -----------------------------------------------------------

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

// ---- ssh_config -------------------------------------------------------------

SshConfig ssh_config(std::string_view text) {
    auto config = parse_ssh_config(text, "ssh_config", kEnv);
    EXPECT_TRUE(config) << config.error().describe();
    return *config;
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

TEST(InventorySshConfig, LoadInventoryReadsTheInjectedConfig) {
    auto dir = std::filesystem::temp_directory_path() /
               ("bpfleet-inventory-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    {
        std::ofstream(dir / "ssh_config") << "Host box\n  User injected\n";
        std::ofstream(dir / "inv.toml") << "[hosts.box]\n";
    }
    InventoryOptions options;
    options.ssh_config_path = dir / "ssh_config";
    options.environment = kEnv;
    auto inventory = load_inventory(dir / "inv.toml", options);
    options.use_ssh_config = false;
    auto without = load_inventory(dir / "inv.toml", options);
    std::filesystem::remove_all(dir);
    ASSERT_TRUE(inventory) << inventory.error().describe();
    EXPECT_EQ(inventory->hosts[0].user, "injected");
    ASSERT_TRUE(without);
    EXPECT_EQ(without->hosts[0].user, "");
}

TEST(Inventory, LoadMissingFile) {
    auto inventory = load_inventory("/nonexistent/bpfleet.toml");
    ASSERT_FALSE(inventory);
    EXPECT_EQ(inventory.error().code, "INVENTORY_NOT_FOUND");
    EXPECT_EQ(inventory.error().context, "/nonexistent/bpfleet.toml");
}

// ---- errors: each names file:line:col and what was wrong ----------------------

struct BadInventory {
    const char* name;
    const char* text;
    const char* where;
    const char* message;
};

void PrintTo(const BadInventory& bad, std::ostream* os) {
    *os << bad.name;
}

class InventoryErrors : public ::testing::TestWithParam<BadInventory> {};

TEST_P(InventoryErrors, NameFileLineColumn) {
    auto inventory = parse_inventory(GetParam().text, "t.toml", nullptr, kEnv);
    ASSERT_FALSE(inventory) << GetParam().name;
    EXPECT_EQ(inventory.error().code, "INVENTORY_INVALID");
    EXPECT_EQ(inventory.error().context, GetParam().where) << inventory.error().describe();
    EXPECT_NE(inventory.error().message.find(GetParam().message), std::string::npos)
        << inventory.error().describe();
}

INSTANTIATE_TEST_SUITE_P(
    Inventory, InventoryErrors,
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
        BadInventory{"group_conflict",
                     "[groups.x]\nhosts = [\"a\"]\nuser = \"one\"\n[groups.y]\nhosts = [\"a\"]\n"
                     "user = \"two\"\n[hosts.a]\n",
                     "t.toml:7:1",
                     "host 'a' gets 'user' from group x (\"one\", t.toml:3:8) and from group y "
                     "(\"two\", t.toml:6:8)"},
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
        BadInventory{"jump_bad_port", "[hosts.a]\njump = \"u@h:99999\"\n", "t.toml:2:8",
                     "jump host 'u@h:99999': port '99999'"},
        BadInventory{"jump_to_local", "[hosts.l]\ntransport = \"local\"\n[hosts.a]\njump = \"l\"\n",
                     "t.toml:4:8", "has transport = \"local\""},
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
