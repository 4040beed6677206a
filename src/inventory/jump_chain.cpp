#include "inventory/jump_chain.hpp"

#include "inventory/names.hpp"

#include <algorithm>

namespace bpfleet::inventory {
namespace {

constexpr int kMaxJumpDepth = 8;

} // namespace

Result<std::vector<Endpoint>> JumpChains::chain_of(const std::string& name) const {
    std::vector<std::string> stack{name};
    return expand(m_jumps.at(name), stack, 0);
}

Result<std::vector<Endpoint>> JumpChains::expand(const JumpSource& jump,
                                                 std::vector<std::string>& stack, int depth) const {
    std::vector<Endpoint> chain;
    if (jump.specs.empty()) {
        return chain;
    }
    if (depth >= kMaxJumpDepth) {
        return inventory_error(jump.where, "jump chain of '" + stack.front() + "' is longer than " +
                                               std::to_string(kMaxJumpDepth) +
                                               " hops (a ProxyJump loop in ssh_config?)");
    }
    auto cycle = [&](const std::string& name) {
        std::string path;
        for (const auto& s : stack) {
            path += s + " -> ";
        }
        return inventory_error(jump.where, "jump cycle: " + path + name);
    };
    for (std::size_t i = 0; i < jump.specs.size(); ++i) {
        const std::string& spec = jump.specs[i];
        const bool outside = jump.from_ssh_config || spec.find_first_of("@:[") != std::string::npos;
        if (!outside) {
            auto it = m_resolved.find(spec);
            if (it == m_resolved.end()) {
                std::vector<std::string_view> names;
                for (const auto& [name, host] : m_resolved) {
                    names.push_back(name);
                }
                return inventory_error(jump.where,
                                       "unknown jump host '" + spec + "': no [hosts." + spec +
                                           "] in this inventory" + suggestion(spec, names) +
                                           "; write user@host or host:port for a machine "
                                           "outside it");
            }
            if (std::find(stack.begin(), stack.end(), spec) != stack.end()) {
                return cycle(spec);
            }
            const InventoryHost& hop = it->second;
            if (hop.transport != Transport::Ssh) {
                return inventory_error(jump.where,
                                       "jump host '" + spec +
                                           "' has transport = \"local\"; a jump host must "
                                           "be reached over ssh");
            }
            if (i == 0) {
                stack.push_back(spec);
                TRY_ASSIGN(auto prefix, expand(m_jumps.at(spec), stack, depth + 1));
                stack.pop_back();
                chain.insert(chain.end(), prefix.begin(), prefix.end());
            }
            chain.push_back(hop.endpoint());
            continue;
        }
        auto parsed = parse_jump_spec(spec);
        if (!parsed) {
            return inventory_error(jump.where, parsed.error().message);
        }
        Endpoint hop;
        hop.label = spec;
        hop.address = parsed->host;
        hop.user = parsed->user;
        SshHostConfig from_ssh;
        if (m_ssh_config) {
            from_ssh = m_ssh_config->resolve(parsed->host);
        }
        if (from_ssh.host_name) {
            hop.address = *from_ssh.host_name;
        }
        hop.port = parsed->port.value_or(from_ssh.port.value_or(kDefaultPort));
        if (hop.user.empty() && from_ssh.user) {
            hop.user = *from_ssh.user;
        }
        hop.identity_files = from_ssh.identity_files;
        hop.host_key_policy = HostKeyPolicy::Strict;
        if (from_ssh.host_key_policy) {
            hop.host_key_policy = *from_ssh.host_key_policy;
        } else if (auto it = m_defaults.settings.find("host_key_policy");
                   it != m_defaults.settings.end()) {
            hop.host_key_policy = *parse_host_key_policy(it->second.value.get<std::string>());
        }
        if (auto it = m_defaults.settings.find("known_hosts"); it != m_defaults.settings.end()) {
            hop.known_hosts = m_paths.absolute(it->second.value.get<std::string>());
        }
        if (i == 0 && from_ssh.proxy_jump && !from_ssh.proxy_jump->empty()) {
            JumpSource nested{*from_ssh.proxy_jump, true,
                              jump.where + " (ProxyJump from ssh_config for '" + parsed->host +
                                  "')"};
            TRY_ASSIGN(auto prefix, expand(nested, stack, depth + 1));
            chain.insert(chain.end(), prefix.begin(), prefix.end());
        }
        chain.push_back(std::move(hop));
    }
    return chain;
}

} // namespace bpfleet::inventory
