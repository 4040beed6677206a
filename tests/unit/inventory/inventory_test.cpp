// The inventory as a whole (src/inventory/inventory.cpp): the examples in
// inventory/, loading a file and its ssh_config, the built-in local inventory.
#include "inventory/inventory.hpp"
#include "inventory_test_support.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

namespace bpfleet::inventory {
namespace {

using namespace test;
using std::chrono::milliseconds;
using std::chrono::seconds;

const std::filesystem::path kSourceDir = BPFLEET_SOURCE_DIR;

Inventory load_example(const char* name) {
    InventoryOptions options;
    options.use_ssh_config = false;
    options.environment = kEnv;
    auto inventory = load_inventory(kSourceDir / "inventory" / name, options);
    EXPECT_TRUE(inventory) << (inventory ? "" : inventory.error().describe());
    return inventory ? *inventory : Inventory{};
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

TEST(Inventory, LocalInventoryIsOneLocalHost) {
    auto inventory = local_inventory();
    ASSERT_EQ(inventory.hosts.size(), 1u);
    EXPECT_EQ(inventory.hosts[0].name, "localhost");
    EXPECT_EQ(inventory.hosts[0].transport, Transport::Local);
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

} // namespace
} // namespace bpfleet::inventory
