// The inventory pipeline: the TOML read into a Document (document.cpp), each
// host's settings resolved by precedence (precedence.cpp), then the jump
// chains (jump_chain.cpp), which need every host resolved first.
#include "inventory/inventory.hpp"

#include "inventory/document.hpp"
#include "inventory/jump_chain.hpp"
#include "inventory/precedence.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace bpfleet::inventory {
namespace {

Result<Inventory> parse(std::string_view text, std::string_view source, const PathContext& paths,
                        const SshConfig* ssh_config) {
    Document doc;
    TRY_ASSIGN(doc, read_document(text, source));

    // Every host's problems are gathered before giving up: one pass names them all.
    ErrorList errors;
    std::map<std::string, InventoryHost> resolved;
    std::map<std::string, JumpSource> jumps;
    for (const auto& [name, raw] : doc.hosts) {
        JumpSource jump;
        if (auto host = errors.take(resolve_host(doc, raw, ssh_config, paths, jump))) {
            resolved.emplace(name, std::move(*host));
            jumps.emplace(name, std::move(jump));
        }
    }
    if (!errors.empty()) {
        return std::move(errors).combined();
    }

    // Reads the other hosts' settings only, so filling in jump_chain as it
    // goes does not change what later hosts see.
    JumpChains chains(resolved, jumps, doc.defaults, ssh_config, paths);
    for (auto& [name, host] : resolved) {
        if (host.transport == Transport::Ssh) {
            if (auto chain = errors.take(chains.chain_of(name))) {
                host.jump_chain = std::move(*chain);
            }
        }
    }
    if (!errors.empty()) {
        return std::move(errors).combined();
    }

    Inventory inventory;
    inventory.source = doc.source;
    for (auto& [name, host] : resolved) {
        inventory.hosts.push_back(std::move(host));
    }
    for (const auto& [name, raw] : doc.groups) {
        InventoryGroup group;
        group.name = name;
        group.source = raw.implicit ? std::string() : raw.level.where;
        for (const auto& [member, at] : raw.members) {
            group.hosts.push_back(member);
        }
        inventory.groups.push_back(std::move(group));
    }
    if (ssh_config) {
        inventory.notes = ssh_config->notes();
    }
    return inventory;
}

} // namespace

Endpoint InventoryHost::endpoint() const {
    return Endpoint{name, address, port, user, identity_files, host_key_policy, known_hosts};
}

const InventoryHost* Inventory::find_host(std::string_view name) const {
    auto it =
        std::lower_bound(hosts.begin(), hosts.end(), name,
                         [](const InventoryHost& h, std::string_view n) { return h.name < n; });
    return it != hosts.end() && it->name == name ? &*it : nullptr;
}

const InventoryGroup* Inventory::find_group(std::string_view name) const {
    auto it =
        std::lower_bound(groups.begin(), groups.end(), name,
                         [](const InventoryGroup& g, std::string_view n) { return g.name < n; });
    return it != groups.end() && it->name == name ? &*it : nullptr;
}

Result<Inventory> parse_inventory(std::string_view text, std::string_view source_name,
                                  const SshConfig* ssh_config, const LocalEnvironment& env) {
    return parse(text, source_name,
                 PathContext{std::filesystem::path(source_name).parent_path(), env.home},
                 ssh_config);
}

Result<Inventory> load_inventory(const std::filesystem::path& path,
                                 const InventoryOptions& options) {
    const LocalEnvironment env = options.environment.value_or(LocalEnvironment::current());
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        return make_error("INVENTORY_NOT_FOUND", "is a directory, not an inventory file", EISDIR,
                          path.string());
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return make_error("INVENTORY_NOT_FOUND",
                          "can't read the inventory: " + std::string(std::strerror(errno)), errno,
                          path.string());
    }
    std::ostringstream text;
    text << in.rdbuf();
    std::optional<SshConfig> ssh_config;
    if (options.use_ssh_config) {
        TRY_ASSIGN(
            ssh_config,
            load_ssh_config(options.ssh_config_path.value_or(default_ssh_config_path(env)), env));
    }
    std::filesystem::path base = std::filesystem::absolute(path, ec).parent_path();
    return parse(text.str(), path.string(), PathContext{base, env.home},
                 ssh_config ? &*ssh_config : nullptr);
}

IdentityFileCheck check_identity_files(const Inventory& inventory,
                                       const std::vector<InventoryHost>& selected) {
    struct Use {
        std::string place; // where the inventory set it; empty: ssh_config
        std::vector<std::string> hosts;
        int err = 0;
    };
    std::map<std::string, Use> missing; // by path: one message per file
    auto look = [&](const std::vector<std::string>& files, const InventoryHost* owner,
                    const std::string& user) {
        for (const auto& file : files) {
            if (::access(file.c_str(), R_OK) == 0) {
                continue;
            }
            Use& use = missing[file];
            use.err = errno;
            if (use.place.empty() && owner != nullptr &&
                owner->origins.count("identity_file") != 0 &&
                owner->origins.at("identity_file") != "ssh_config") {
                auto it = owner->places.find("identity_file");
                use.place = it == owner->places.end() ? owner->source : it->second;
            }
            if (std::find(use.hosts.begin(), use.hosts.end(), user) == use.hosts.end()) {
                use.hosts.push_back(user);
            }
        }
    };
    for (const auto& host : selected) {
        look(host.identity_files, &host, host.name);
        for (const auto& hop : host.jump_chain) {
            look(hop.identity_files, inventory.find_host(hop.label),
                 host.name + " (jump " + hop.label + ")");
        }
    }
    IdentityFileCheck out;
    for (const auto& [file, use] : missing) {
        std::string users;
        for (std::size_t i = 0; i < use.hosts.size() && i < 5; ++i) {
            users += (i == 0 ? "" : ", ") + use.hosts[i];
        }
        if (use.hosts.size() > 5) {
            users += ", ... (" + std::to_string(use.hosts.size()) + " hosts)";
        }
        const std::string what = "identity file " + file + " cannot be read (" +
                                 std::strerror(use.err) + "); used by " + users;
        if (use.place.empty()) {
            out.warnings.push_back(what + " (from ssh_config; skipped, as ssh does)");
        } else {
            out.errors.push_back(Error{kInventoryInvalid, use.err, what, use.place});
        }
    }
    return out;
}

Inventory local_inventory() {
    InventoryHost host;
    host.name = "localhost";
    host.address = "localhost";
    host.transport = Transport::Local;
    host.source = "<built-in>";
    for (const char* key :
         {"transport", "address", "host_key_policy", "connect_timeout", "command_timeout"}) {
        host.origins[key] = "built-in";
    }
    Inventory inventory;
    inventory.source = "<built-in>";
    inventory.hosts.push_back(std::move(host));
    return inventory;
}

} // namespace bpfleet::inventory
