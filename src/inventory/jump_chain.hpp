// Jump chains: the hops in front of each host, outermost first. A hop named
// like an inventory host ("bastion") is that host, reached through its own
// chain; one written user@host[:port], or any hop from ssh_config's ProxyJump,
// is a machine outside the inventory, completed from ssh_config (HostName,
// Port, User, IdentityFile, its own ProxyJump) and [defaults]' host-key
// settings. Cycles, unknown hosts, local-transport hops and chains longer
// than 8 hops are INVENTORY_INVALID naming where the jump was written.
// Used only inside src/inventory.
#pragma once

#include "common/result.hpp"
#include "inventory/document.hpp"
#include "inventory/inventory.hpp"
#include "inventory/ssh_config.hpp"

#include <map>
#include <string>
#include <vector>

namespace bpfleet::inventory {

// Per host, what its jump chain is built from.
struct JumpSource {
    std::vector<std::string> specs; // as written: host names, user@host:port
    bool from_ssh_config = false;   // a ProxyJump: every hop is outside the inventory
    std::string where;
};

class JumpChains {
public:
    // Every argument must outlive the object; `hosts` holds every host with
    // its settings resolved (their own jump_chain is not read).
    JumpChains(const std::map<std::string, InventoryHost>& hosts,
               const std::map<std::string, JumpSource>& jumps, const Level& defaults,
               const SshConfig* ssh_config, const PathContext& paths)
        : m_resolved(hosts), m_jumps(jumps), m_defaults(defaults), m_ssh_config(ssh_config),
          m_paths(paths) {}

    // The chain of the host called `name` (one of `hosts`).
    [[nodiscard]] Result<std::vector<Endpoint>> chain_of(const std::string& name) const;

private:
    Result<std::vector<Endpoint>> expand(const JumpSource& jump, std::vector<std::string>& stack,
                                         int depth) const;

    const std::map<std::string, InventoryHost>& m_resolved;
    const std::map<std::string, JumpSource>& m_jumps;
    const Level& m_defaults;
    const SshConfig* m_ssh_config;
    const PathContext& m_paths;
};

} // namespace bpfleet::inventory
