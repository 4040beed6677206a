// The inventory file as written, before precedence: [defaults], each
// [groups.NAME] and [hosts.NAME] as a Level of validated settings (each with
// the "file:line:col" it came from), tags and vars. read_document() checks
// every key and value and settles group membership; precedence.hpp then
// resolves each host, jump_chain.hpp its jump hosts. Used only inside
// src/inventory.
#pragma once

#include "common/result.hpp"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::inventory {

// The error code of everything wrong inside an inventory file.
inline constexpr const char* kInventoryInvalid = "INVENTORY_INVALID";

// INVENTORY_INVALID at `at` ("file:line:col").
inline tl::unexpected<Error> inventory_error(const std::string& at, std::string message) {
    return make_error(kInventoryInvalid, std::move(message), 0, at);
}

// Keys every level ([defaults], [groups.X], [hosts.X]) may set.
inline const std::vector<std::string_view> kSettingKeys = {"port",
                                                           "user",
                                                           "identity_file",
                                                           "jump",
                                                           "become",
                                                           "host_key_policy",
                                                           "connect_timeout",
                                                           "command_timeout",
                                                           "transport",
                                                           "external_btf",
                                                           "known_hosts",
                                                           "jump_only"};

// A validated setting in canonical JSON form and where it was written.
// Timeouts are milliseconds, identity_file and jump arrays of strings.
struct Setting {
    nlohmann::json value;
    std::string where;
};

struct Level {
    std::map<std::string, Setting> settings; // kSettingKeys and "address"
    std::map<std::string, Setting> vars;
    std::vector<std::string> tags;
    std::string where;
};

struct RawGroup {
    Level level;
    std::map<std::string, std::string> members; // host name -> where it is listed
    bool implicit = false;                      // only named by hosts' "groups = [...]"
};

struct RawHost {
    std::string name;
    Level level;
    std::set<std::string> groups; // as the host lists them
};

struct Document {
    std::string source; // the file name, for "file:line:col"
    Level defaults;
    std::map<std::string, RawGroup> groups; // members from both sides, implicit groups too
    std::map<std::string, RawHost> hosts;   // at least one
};

// Reads inventory TOML named `source`. INVENTORY_INVALID for a syntax error,
// an unknown or misplaced key, a wrong type or value, an invalid or repeated
// name, a credential, no hosts, or a group listing an unknown host.
Result<Document> read_document(std::string_view text, std::string_view source);

// How a path written in the inventory becomes absolute: "~" is `home`,
// relative paths are relative to `base_dir` (the inventory file's folder;
// empty: left relative).
struct PathContext {
    std::filesystem::path base_dir;
    std::string home;

    [[nodiscard]] std::string absolute(const std::string& path) const;
};

} // namespace bpfleet::inventory
