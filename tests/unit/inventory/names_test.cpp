// The inventory's name and key rules (src/inventory/names.cpp).
#include "inventory/names.hpp"

#include <gtest/gtest.h>

namespace bpfleet::inventory {
namespace {

TEST(Names, ValidNames) {
    for (const char* name : {"a", "rpi4-01", "gce.n2", "x_y", "7up", "A-Z"}) {
        EXPECT_TRUE(is_valid_name(name)) << name;
    }
    for (const char* name : {"", "-a", ".a", "_a", "a b", "a/b", "a:b", "a@b", "a,b", "*", "é"}) {
        EXPECT_FALSE(is_valid_name(name)) << name;
    }
}

TEST(Names, CredentialKeysInAnyCase) {
    for (const char* key : {"password", "Password", "become_password", "sudo_passwd",
                            "key_passphrase", "pass", "PASS", "ssh_pass"}) {
        EXPECT_TRUE(is_credential_key(key)) << key;
    }
    for (const char* key : {"user", "passage", "compass_dir", "port", "bypass_cache"}) {
        EXPECT_FALSE(is_credential_key(key)) << key;
    }
}

TEST(Names, SuggestionWithinTwoEdits) {
    const std::vector<std::string_view> keys = {"address", "port", "user", "jump"};
    EXPECT_EQ(suggestion("adress", keys), " (did you mean 'address'?)");
    EXPECT_EQ(suggestion("prot", keys), " (did you mean 'port'?)");
    EXPECT_EQ(suggestion("usr", keys), " (did you mean 'user'?)");
    EXPECT_EQ(suggestion("hostname", keys), "");
    EXPECT_EQ(suggestion("x", {}), "");
    // The closest wins, the first of equals.
    EXPECT_EQ(suggestion("jumb", {"jamb", "jump"}), " (did you mean 'jamb'?)");
    EXPECT_EQ(suggestion("port", {"sort", "port"}), " (did you mean 'port'?)");
}

} // namespace
} // namespace bpfleet::inventory
