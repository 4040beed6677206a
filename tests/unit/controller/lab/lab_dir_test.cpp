// lab/lab_dir: the inventory `bpfleet lab up` writes is one `bpfleet run -i`
// reads as intended.
#include "inventory/inventory.hpp"
#include "lab/lab_dir.hpp"
#include "support/temp_dir.hpp"

#include <fstream>
#include <gtest/gtest.h>

namespace fs = std::filesystem;
using namespace bpfleet;
using namespace bpfleet::lab;

TEST(LabInventory, IsAValidInventoryWithTagsKeysAndKnownHosts) {
    VmRecord a;
    a.kernel = find_lab_kernel("6.1-armhf");
    a.port = 40001;
    a.btf = false;
    a.package = "linux-image-6.1.0-50-armmp-lpae";
    a.version = "6.1.176-1";
    a.release = "6.1.0-50-armmp-lpae";
    a.accel = "tcg";
    VmRecord b = a;
    b.kernel = find_lab_kernel("5.10-amd64");
    b.port = 40002;
    b.btf = true;
    test::TempDir dir("lab-unit");
    const fs::path file = dir / "inventory.toml";
    std::ofstream(file) << inventory_text({a, b});
    auto inv = inventory::load_inventory(file, {.use_ssh_config = false});
    ASSERT_TRUE(inv) << inv.error().describe();
    const auto* h = inv->find_host("lab-6.1-armhf");
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->address, "127.0.0.1");
    EXPECT_EQ(h->port, 40001);
    EXPECT_EQ(h->user, "root");
    EXPECT_EQ(h->known_hosts, (dir / "known_hosts").string());
    EXPECT_EQ(h->identity_files, std::vector<std::string>{(dir / "id_ed25519").string()});
    EXPECT_EQ(h->host_key_policy, inventory::HostKeyPolicy::Strict);
    EXPECT_EQ(h->tags, (std::vector<std::string>{"6.1", "armhf", "armv7l", "lab", "no-btf"}));
    const auto* h2 = inv->find_host("lab-5.10-amd64");
    ASSERT_NE(h2, nullptr);
    EXPECT_EQ(h2->tags, (std::vector<std::string>{"5.10", "amd64", "btf", "lab", "x86_64"}));
}
