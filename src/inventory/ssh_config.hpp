// A reader for OpenSSH client configuration (~/.ssh/config), limited to what
// the inventory honours: Host blocks (patterns with '*', '?' and '!'),
// HostName, Port, User, IdentityFile, ProxyJump, StrictHostKeyChecking and
// ConnectTimeout. Semantics follow ssh_config(5): keywords are
// case-insensitive, "Keyword value" and "Keyword=value" both work, for each
// keyword the first value obtained wins, IdentityFile accumulates, and options
// before the first Host line apply to every host.
//
// Not followed, with a note in notes(): Include, and Match blocks other than
// "Match all" (their options are skipped). Every other keyword is ignored
// silently, as it belongs to ssh itself.
//
// Errors (SSH_CONFIG_INVALID, context "file:line"): a Host line without
// patterns, a keyword without a value, an unterminated quote, a Port that is
// not 1..65535, a ConnectTimeout that is not a non-negative integer, an
// unknown StrictHostKeyChecking value.
//
// An SshConfig is immutable once parsed; resolve() is const and thread-safe.
#pragma once

#include "common/result.hpp"
#include "inventory/types.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::inventory {

// What ssh_config says about one alias. Unset fields: the config is silent.
struct SshHostConfig {
    std::optional<std::string> host_name; // %h and %% expanded
    std::optional<std::uint16_t> port;
    std::optional<std::string> user;
    std::vector<std::string> identity_files; // in file order; ~, %d, %u, %h, %r, %% expanded
    // Jump hops, outermost first, as written ("[user@]host[:port]"). An
    // empty vector means "ProxyJump none": connect directly.
    std::optional<std::vector<std::string>> proxy_jump;
    // StrictHostKeyChecking: yes/ask -> Strict, accept-new -> AcceptNew, no/off -> Off.
    std::optional<HostKeyPolicy> host_key_policy;
    std::optional<std::chrono::seconds> connect_timeout; // 0 = the system default
};

class SshConfig {
public:
    // An empty configuration: resolve() returns nothing set.
    SshConfig() = default;

    // The options that apply to `alias` (the name given to ssh, i.e. the
    // inventory address). Patterns match case-insensitively, as ssh does.
    [[nodiscard]] SshHostConfig resolve(std::string_view alias) const;

    // Things that were read but not followed, "file:line: ..." each.
    [[nodiscard]] const std::vector<std::string>& notes() const { return m_notes; }

    [[nodiscard]] bool empty() const { return m_blocks.empty(); }

    friend Result<SshConfig> parse_ssh_config(std::string_view text, std::string_view source_name,
                                              const LocalEnvironment& env);

private:
    struct Option {
        std::string keyword; // lower case
        std::vector<std::string> args;
        int line = 0;
    };
    struct Block {
        std::vector<std::string> patterns; // lower case; "!" prefix kept for negation
        std::vector<Option> options;
        bool matches(std::string_view lower_alias) const;
    };

    std::vector<Block> m_blocks; // the first one holds the options before any Host line
    std::vector<std::string> m_notes;
    LocalEnvironment m_env;
};

// Parses ssh_config text. `source_name` is used in errors and notes.
Result<SshConfig> parse_ssh_config(std::string_view text,
                                   std::string_view source_name = "ssh_config",
                                   const LocalEnvironment& env = LocalEnvironment::current());

// Reads and parses a file. A file that does not exist is an empty
// configuration, not an error (most CI runners have none); one that exists
// but can't be read is SSH_CONFIG_INVALID.
Result<SshConfig> load_ssh_config(const std::filesystem::path& path,
                                  const LocalEnvironment& env = LocalEnvironment::current());

// $HOME/.ssh/config for `env`.
std::filesystem::path
default_ssh_config_path(const LocalEnvironment& env = LocalEnvironment::current());

// One jump hop "[ssh://][user@]host[:port]" ("[v6addr]" in brackets when a
// port follows). Syntax only; errors are JUMP_INVALID naming the spec.
struct JumpSpec {
    std::string user; // empty when not given
    std::string host;
    std::optional<std::uint16_t> port;
};
Result<JumpSpec> parse_jump_spec(std::string_view text);

} // namespace bpfleet::inventory
