// The fleet inventory: which machines a run talks to and how to reach them.
// Reference: docs/inventory.md (schema, precedence, selectors, shards).
//
// An inventory is a TOML file with [defaults], [hosts.NAME] and
// [groups.NAME]. parse_inventory() turns it into a list of InventoryHost with
// every setting final: host > groups > [defaults] > ~/.ssh/config > built-in
// defaults, jump chains expanded (outermost hop first), "~" expanded and
// relative paths resolved against the inventory file's folder.
//
// Errors: INVENTORY_INVALID with context "file:line:col" (TOML++ source
// regions) and a message saying what was wrong: a TOML syntax error, an
// unknown key (with a suggestion), a wrong type, a port out of range, an empty
// address, a bad host-key policy or transport, an unknown jump host, a jump
// cycle, a host listed twice, two groups that disagree about a setting, and
// any credential (password, passphrase): the inventory never holds secrets.
// INVENTORY_NOT_FOUND when the file can't be read. Selection errors are
// SELECTOR_INVALID, shard errors SHARD_INVALID.
//
// An Inventory is a plain value: copy it, share it read-only across threads.
#pragma once

#include "common/result.hpp"
#include "inventory/ssh_config.hpp"
#include "inventory/types.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::inventory {

inline constexpr std::uint16_t kDefaultPort = 22;
inline constexpr std::chrono::milliseconds kDefaultConnectTimeout{10'000};
inline constexpr std::chrono::milliseconds kDefaultCommandTimeout{300'000};

// One SSH hop: a jump host on the way to an InventoryHost.
struct Endpoint {
    std::string label;   // the inventory host name, or the jump spec as written
    std::string address; // what to connect to (ssh_config HostName applied)
    std::uint16_t port = kDefaultPort;
    std::string user;                        // empty: the controller's login name
    std::vector<std::string> identity_files; // empty: ssh-agent and ssh's default keys
    HostKeyPolicy host_key_policy = HostKeyPolicy::Strict;
    std::string
        known_hosts; // absolute path; empty: the run's (--known-hosts or ~/.ssh/known_hosts)
};

// A host with every setting resolved.
struct InventoryHost {
    std::string name;    // [hosts.NAME]; unique, [A-Za-z0-9._-]+, safe as a folder name
    std::string address; // what to connect to: the "address" key (the name when unset),
                         // rewritten by ssh_config HostName when it is an alias
    std::uint16_t port = kDefaultPort;
    std::string user;                        // empty: the controller's login name
    std::vector<std::string> identity_files; // absolute paths; empty: ssh-agent / default keys
    std::vector<Endpoint> jump_chain;        // outermost first; empty: direct connection
    bool become = false;                     // run the agent through "sudo -n"
    HostKeyPolicy host_key_policy = HostKeyPolicy::Strict;
    std::chrono::milliseconds connect_timeout = kDefaultConnectTimeout;
    std::chrono::milliseconds command_timeout = kDefaultCommandTimeout;
    Transport transport = Transport::Ssh;
    std::string external_btf;        // absolute path to a BTF file or BTFHub tree; empty: none
    std::string known_hosts;         // absolute path of the host's known_hosts; empty: the run's
    bool jump_only = false;          // a bastion: reachable as a jump host, never checked itself
    std::vector<std::string> tags;   // sorted, unique; the host's own and its groups'
    std::vector<std::string> groups; // sorted
    // Free-form variables (host > groups > defaults, per key), kept as JSON:
    // TOML strings, numbers, booleans, arrays and tables map one to one;
    // dates and times become ISO 8601 strings. Always an object.
    nlohmann::json vars = nlohmann::json::object();
    std::string source; // "file:line:col" of [hosts.NAME], for messages
    // Where each resolved setting came from, by key ("port", "user", ...):
    // "host", "group NAME", "defaults", "ssh_config" or "built-in".
    std::map<std::string, std::string> origins;
    // "file:line:col" of each setting the inventory itself gave, by key.
    std::map<std::string, std::string> places{};

    // This host as the last hop of its own connection.
    [[nodiscard]] Endpoint endpoint() const;
};

struct InventoryGroup {
    std::string name;
    std::vector<std::string> hosts; // sorted; from "hosts = [...]" and hosts' "groups = [...]"
    std::string source;             // "file:line:col" of [groups.NAME]; empty when implicit
};

struct Inventory {
    std::string source;                 // the file name as given
    std::vector<InventoryHost> hosts;   // sorted by name
    std::vector<InventoryGroup> groups; // sorted by name
    std::vector<std::string> notes;     // things worth a log line (ssh_config not followed, ...)

    [[nodiscard]] const InventoryHost* find_host(std::string_view name) const;
    [[nodiscard]] const InventoryGroup* find_group(std::string_view name) const;
};

// Parses inventory TOML. `source_name` names the file in errors; relative
// identity_file / external_btf paths are resolved against its folder. With
// `ssh_config`, its values fill what the inventory leaves unset (the host's
// address is the alias looked up).
Result<Inventory> parse_inventory(std::string_view text, std::string_view source_name,
                                  const SshConfig* ssh_config = nullptr,
                                  const LocalEnvironment& env = LocalEnvironment::current());

struct InventoryOptions {
    bool use_ssh_config = true;
    // The ssh_config to honour; unset: $HOME/.ssh/config. A missing file is fine.
    std::optional<std::filesystem::path> ssh_config_path;
    // "~", %d and %u; unset: LocalEnvironment::current().
    std::optional<LocalEnvironment> environment;
};

// Reads `path` (and the ssh_config) and parses it.
Result<Inventory> load_inventory(const std::filesystem::path& path,
                                 const InventoryOptions& options = {});

// The embedded default when no -i is given: one host "local" on the local
// transport.
Inventory local_inventory();

// One term of a host selector (--limit, an expectation's `hosts`) with its
// sign: "NAME", "!NAME", "&NAME"; the lines of an @FILE are terms of their own.
struct SelectorTerm {
    enum class Sign { Include, Exclude, Intersect };
    Sign sign = Sign::Include;
    std::string text;   // the term without its sign: "rpi4-*", "tag:arm", ...
    std::string origin; // "" or "FILE:LINE" for a term read from @FILE
    // The terms of one '&' intersect as one set: a '&@FILE' keeps the hosts
    // in the file, not only those on every line of it.
    std::size_t set = 0;
};

// The syntax of a selector, shared by --limit and the expectations' `hosts`:
// terms split at ',', each with its sign, @FILE read (one name or pattern per
// line, '#' comments; a relative FILE from `base_dir` when given, else from
// the working directory). What a term's text means is the caller's. Errors
// (SELECTOR_INVALID, context `context`): an empty term, an unreadable @FILE,
// a signed line in one.
Result<std::vector<SelectorTerm>> parse_selector_terms(std::string_view selector,
                                                       const std::string& context = "--limit",
                                                       const std::string& base_dir = "");

// Whether a host is selected, given which terms match it: a positive term
// matches (or there is none), every '&' set has a term that matches, and no
// '!' term matches. `Term` has SelectorTerm's `sign` and `set` (a
// SelectorTerm, or a caller's term made from one).
template <typename Term, typename Matches>
bool selector_selects(const std::vector<Term>& terms, Matches&& matches) {
    bool any_positive = false;
    bool included = false;
    std::vector<std::pair<std::size_t, bool>> sets; // '&' set -> some term matched
    for (const auto& t : terms) {
        switch (t.sign) {
        case SelectorTerm::Sign::Include:
            any_positive = true;
            included = included || matches(t);
            break;
        case SelectorTerm::Sign::Exclude:
            if (matches(t)) {
                return false;
            }
            break;
        case SelectorTerm::Sign::Intersect: {
            const bool m = matches(t);
            auto it = std::find_if(sets.begin(), sets.end(),
                                   [&](const auto& s) { return s.first == t.set; });
            if (it == sets.end()) {
                sets.emplace_back(t.set, m);
            } else {
                it->second = it->second || m;
            }
            break;
        }
        }
    }
    return (!any_positive || included) &&
           std::all_of(sets.begin(), sets.end(), [](const auto& s) { return s.second; });
}

// Identity files of the selected hosts and their jump hosts that cannot be
// read, checked before anything is contacted: each missing file given by the
// inventory is one error at the place it was written (naming the hosts that
// use it); one given by ssh_config is a warning, since ssh itself skips it.
struct IdentityFileCheck {
    std::vector<Error> errors;
    std::vector<std::string> warnings;
};
IdentityFileCheck check_identity_files(const Inventory& inventory,
                                       const std::vector<InventoryHost>& selected);

// --limit: a comma list of terms, each one of
//   NAME        a host name (an unknown name is an error naming it)
//   GLOB        a host-name pattern with '*' and '?' (may match nothing)
//   tag:T       hosts carrying tag T (T may be a glob)
//   group:G     members of group G (an unknown group is an error)
//   all or *    every host
//   @FILE       the names or patterns in FILE, one per line ('#' comments)
// and any term may be prefixed with '!' to remove what it selects or '&' to
// keep only hosts it also selects (Ansible's intersection). Hosts selected by
// the positive terms (all hosts when there are none), in every '&' term, minus
// those of the '!' terms; jump_only hosts are never selected. Unknown host and
// group names are errors with the nearest known name suggested. An empty result
// is an error. The result is sorted by name. An empty selector selects all.
Result<std::vector<InventoryHost>> select_hosts(const Inventory& inventory,
                                                std::string_view selector);

// --shard I/N.
struct ShardSpec {
    std::size_t index = 1; // 1-based
    std::size_t count = 1;
};
// Parses "I/N": decimal integers, 1 <= I <= N <= 100000, nothing else.
Result<ShardSpec> parse_shard(std::string_view text);

// The hosts of shard I of N: sort by name, then host k (0-based) goes to
// shard (k mod N) + 1. Deterministic for a given set of names whatever the
// input order, every host lands in exactly one shard, and shard sizes differ
// by at most one. A shard may be empty (fewer hosts than shards). Applied
// after --limit. Errors: SHARD_INVALID when not 1 <= index <= count.
Result<std::vector<InventoryHost>> shard(std::vector<InventoryHost> hosts, std::size_t index,
                                         std::size_t count);

} // namespace bpfleet::inventory
