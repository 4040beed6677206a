#include "cli/list_hosts.hpp"

#include <algorithm>
#include <array>

namespace bpfleet::cli {
namespace {

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : ",") + item;
    }
    return out.empty() ? "-" : out;
}

std::string connect_to(const inventory::InventoryHost& host) {
    if (host.transport == inventory::Transport::Local) {
        return "local";
    }
    std::string target = host.user.empty() ? host.address : host.user + "@" + host.address;
    return target + ":" + std::to_string(host.port);
}

} // namespace

void print_host_list(std::FILE* out, const inventory::Inventory& inventory,
                     const std::vector<inventory::InventoryHost>& hosts, const std::string& limit) {
    std::fprintf(out, "%zu host(s) selected from %s%s:\n", hosts.size(), inventory.source.c_str(),
                 limit.empty() ? "" : (" by --limit '" + limit + "'").c_str());
    using Row = std::array<std::string, 7>;
    std::vector<Row> rows{{"NAME", "CONNECT", "VIA", "BECOME", "HOST KEY", "TAGS", "GROUPS"}};
    for (const auto& host : hosts) {
        std::vector<std::string> via;
        for (const auto& hop : host.jump_chain) {
            via.push_back(hop.label);
        }
        const bool local = host.transport == inventory::Transport::Local;
        rows.push_back({host.name, connect_to(host), joined(via), host.become ? "sudo" : "-",
                        local ? "-" : std::string(inventory::to_string(host.host_key_policy)),
                        joined(host.tags), joined(host.groups)});
    }
    std::array<std::size_t, 7> width{};
    for (const auto& row : rows) {
        for (std::size_t c = 0; c < row.size(); ++c) {
            width[c] = std::max(width[c], row[c].size());
        }
    }
    for (const auto& row : rows) {
        std::string line = "  ";
        for (std::size_t c = 0; c < row.size(); ++c) {
            line += row[c];
            if (c + 1 < row.size()) {
                line += std::string(width[c] - row[c].size() + 2, ' ');
            }
        }
        std::fprintf(out, "%s\n", line.c_str());
    }
}

} // namespace bpfleet::cli
