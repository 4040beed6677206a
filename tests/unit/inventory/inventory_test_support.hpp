// What the inventory tests share: a fixed local environment, parsing that
// must succeed, finding a host, an ssh_config from text, and the shape of the
// error cases (each names file:line:col and what was wrong).
#pragma once

#include "inventory/inventory.hpp"

#include <gtest/gtest.h>
#include <ostream>
#include <string_view>

namespace bpfleet::inventory::test {

inline const LocalEnvironment kEnv{"/home/tester", "tester"};

inline Inventory parse_ok(std::string_view text, const SshConfig* ssh_config = nullptr) {
    auto inventory = parse_inventory(text, "t.toml", ssh_config, kEnv);
    EXPECT_TRUE(inventory) << (inventory ? "" : inventory.error().describe());
    return inventory ? *inventory : Inventory{};
}

inline const InventoryHost& host(const Inventory& inventory, std::string_view name) {
    const InventoryHost* h = inventory.find_host(name);
    if (!h) {
        ADD_FAILURE() << "no host " << name;
        static const InventoryHost kNone;
        return kNone;
    }
    return *h;
}

inline SshConfig ssh_config(std::string_view text) {
    auto config = parse_ssh_config(text, "ssh_config", kEnv);
    EXPECT_TRUE(config) << config.error().describe();
    return config ? *config : SshConfig{};
}

struct BadInventory {
    const char* name;
    const char* text;
    const char* where;
    const char* message;
};

inline void PrintTo(const BadInventory& bad, std::ostream* os) {
    *os << bad.name;
}

// parse_inventory() fails with INVENTORY_INVALID at `where`, and the message
// contains `message`.
inline void expect_inventory_error(const BadInventory& bad) {
    auto inventory = parse_inventory(bad.text, "t.toml", nullptr, kEnv);
    ASSERT_FALSE(inventory) << bad.name;
    EXPECT_EQ(inventory.error().code, "INVENTORY_INVALID");
    EXPECT_EQ(inventory.error().context, bad.where) << inventory.error().describe();
    EXPECT_NE(inventory.error().message.find(bad.message), std::string::npos)
        << inventory.error().describe();
}

} // namespace bpfleet::inventory::test
