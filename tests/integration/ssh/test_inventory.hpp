// Inventories for the SSH tests: one HostSpec per [hosts.NAME] table, written
// as the TOML bpfleet reads (docs/inventory.md).
#pragma once

#include "ssh/sshd_fixture.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bpfleet::test {

// One [hosts.NAME] table. Empty strings, zero numbers and unset optionals are
// left out of the file.
struct HostSpec {
    std::string name;
    std::string address = "127.0.0.1";
    int port = 0;
    std::string user = "root";
    std::vector<fs::path> identity_files;
    std::string host_key_policy = "accept-new";
    std::vector<std::string> jump;
    std::optional<bool> become;
    bool jump_only = false;
    std::vector<std::string> tags;
    double connect_timeout = 0;
    double command_timeout = 0;
    std::vector<std::string> extra_lines; // raw `key = value` TOML lines
};

// A host that logs in to `sshd` with `key` as root.
HostSpec host_spec(const std::string& name, const SshdFixture& sshd, const ClientKey& key);
std::string inventory_toml(const std::vector<HostSpec>& hosts);
// Writes inventory_toml(hosts) to `file` and returns `file`.
fs::path write_inventory(const fs::path& file, const std::vector<HostSpec>& hosts);

} // namespace bpfleet::test
