#include "inventory/precedence.hpp"

#include <algorithm>
#include <optional>
#include <set>

namespace bpfleet::inventory {

Result<InventoryHost> resolve_host(const Document& doc, const RawHost& raw,
                                   const SshConfig* ssh_config, const PathContext& paths,
                                   JumpSource& jump) {
    InventoryHost host;
    host.name = raw.name;
    host.source = raw.level.where;

    std::vector<std::pair<std::string, const RawGroup*>> groups;
    for (const auto& [name, group] : doc.groups) {
        if (group.members.count(raw.name)) {
            groups.emplace_back(name, &group);
            host.groups.push_back(name);
        }
    }

    // An inherited jump that names the host itself is how a bastion inside a
    // group "behind the bastion" is written: it reaches the bastion directly.
    auto inherited_self_jump = [&](const std::string& key, const Setting& s, bool is_var) {
        if (is_var || key != "jump") {
            return false;
        }
        const auto& hops = s.value;
        return std::find(hops.begin(), hops.end(), nlohmann::json(raw.name)) != hops.end();
    };
    struct Picked {
        Setting setting;
        std::string origin;
    };
    auto pick = [&](const std::string& key, auto member) -> Result<std::optional<Picked>> {
        const bool is_var = member == &Level::vars;
        const auto& own = (raw.level.*member);
        if (auto it = own.find(key); it != own.end()) {
            return Picked{it->second, "host"};
        }
        std::optional<Picked> found;
        for (const auto& [group_name, group] : groups) {
            const auto& map = (group->level.*member);
            auto it = map.find(key);
            if (it == map.end() || inherited_self_jump(key, it->second, is_var)) {
                continue;
            }
            if (!found) {
                found = Picked{it->second, "group " + group_name};
            } else if (found->setting.value != it->second.value) {
                return inventory_error(
                    raw.level.where, "host '" + raw.name + "' gets '" + key + "' from " +
                                         found->origin + " (" + found->setting.value.dump() + ", " +
                                         found->setting.where + ") and from group " + group_name +
                                         " (" + it->second.value.dump() + ", " + it->second.where +
                                         "); set it on the host or in only one of the groups");
            }
        }
        if (found) {
            return found;
        }
        const auto& defaults = (doc.defaults.*member);
        if (auto it = defaults.find(key);
            it != defaults.end() && !inherited_self_jump(key, it->second, is_var)) {
            return Picked{it->second, "defaults"};
        }
        return std::optional<Picked>();
    };

    std::map<std::string, Picked> picked;
    std::vector<std::string> keys(kSettingKeys.begin(), kSettingKeys.end());
    keys.emplace_back("address");
    for (const auto& key : keys) {
        TRY_ASSIGN(auto p, pick(key, &Level::settings));
        if (p) {
            host.origins[key] = p->origin;
            host.places[key] = p->setting.where;
            picked.emplace(key, std::move(*p));
        }
    }
    auto value = [&](const char* key) -> const nlohmann::json* {
        auto it = picked.find(key);
        return it == picked.end() ? nullptr : &it->second.setting.value;
    };
    auto set_builtin = [&](const char* key) { host.origins.emplace(key, "built-in"); };

    if (auto* v = value("transport")) {
        host.transport = *parse_transport(v->get<std::string>());
    } else {
        set_builtin("transport");
    }
    const bool ssh = host.transport == Transport::Ssh;
    if (auto* v = value("address")) {
        host.address = v->get<std::string>();
    } else {
        host.address = ssh ? raw.name : "localhost";
        host.origins["address"] = ssh ? "name" : "built-in";
    }
    SshHostConfig from_ssh;
    if (ssh && ssh_config) {
        from_ssh = ssh_config->resolve(host.address);
        if (from_ssh.host_name) {
            host.address = *from_ssh.host_name;
            host.origins["address"] = "ssh_config";
        }
    }
    auto fill = [&](const char* key, bool from_config) {
        if (!value(key)) {
            host.origins[key] = from_config ? "ssh_config" : "built-in";
        }
    };

    if (auto* v = value("port")) {
        host.port = static_cast<std::uint16_t>(v->get<int>());
    } else {
        host.port = from_ssh.port.value_or(kDefaultPort);
        fill("port", from_ssh.port.has_value());
    }
    if (auto* v = value("user")) {
        host.user = v->get<std::string>();
    } else if (from_ssh.user) {
        host.user = *from_ssh.user;
        fill("user", true);
    }
    if (auto* v = value("identity_file")) {
        for (const auto& path : *v) {
            host.identity_files.push_back(paths.absolute(path.get<std::string>()));
        }
    } else if (!from_ssh.identity_files.empty()) {
        host.identity_files = from_ssh.identity_files;
        fill("identity_file", true);
    }
    if (auto it = picked.find("jump"); it != picked.end()) {
        jump.specs = it->second.setting.value.get<std::vector<std::string>>();
        jump.where = it->second.setting.where;
    } else if (from_ssh.proxy_jump) {
        jump.specs = *from_ssh.proxy_jump;
        jump.from_ssh_config = true;
        jump.where = host.source + " (ProxyJump from ssh_config for '" +
                     (from_ssh.host_name ? std::string(host.address) : raw.name) + "')";
        fill("jump", true);
    }
    if (auto* v = value("become")) {
        host.become = v->get<bool>();
    }
    if (auto* v = value("jump_only")) {
        host.jump_only = v->get<bool>();
    }
    if (auto* v = value("host_key_policy")) {
        host.host_key_policy = *parse_host_key_policy(v->get<std::string>());
    } else {
        host.host_key_policy = from_ssh.host_key_policy.value_or(HostKeyPolicy::Strict);
        fill("host_key_policy", from_ssh.host_key_policy.has_value());
    }
    if (auto* v = value("connect_timeout")) {
        host.connect_timeout = std::chrono::milliseconds(v->get<std::int64_t>());
    } else if (from_ssh.connect_timeout && from_ssh.connect_timeout->count() > 0) {
        host.connect_timeout = *from_ssh.connect_timeout;
        fill("connect_timeout", true);
    } else {
        set_builtin("connect_timeout");
    }
    if (auto* v = value("command_timeout")) {
        host.command_timeout = std::chrono::milliseconds(v->get<std::int64_t>());
    } else {
        set_builtin("command_timeout");
    }
    if (auto* v = value("external_btf")) {
        host.external_btf = paths.absolute(v->get<std::string>());
    }
    if (auto* v = value("known_hosts")) {
        host.known_hosts = paths.absolute(v->get<std::string>());
    }

    // Tags: the union of every level's.
    std::set<std::string> tags(raw.level.tags.begin(), raw.level.tags.end());
    tags.insert(doc.defaults.tags.begin(), doc.defaults.tags.end());
    for (const auto& [group_name, group] : groups) {
        tags.insert(group->level.tags.begin(), group->level.tags.end());
    }
    host.tags.assign(tags.begin(), tags.end());

    // Vars: per key, host > groups > defaults.
    std::set<std::string> var_keys;
    for (const Level* level : std::initializer_list<const Level*>{&raw.level, &doc.defaults}) {
        for (const auto& [key, setting] : level->vars) {
            var_keys.insert(key);
        }
    }
    for (const auto& [group_name, group] : groups) {
        for (const auto& [key, setting] : group->level.vars) {
            var_keys.insert(key);
        }
    }
    for (const auto& key : var_keys) {
        TRY_ASSIGN(auto p, pick(key, &Level::vars));
        if (p) {
            host.vars[key] = p->setting.value;
        }
    }
    return host;
}

} // namespace bpfleet::inventory
