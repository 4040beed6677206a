// --list-hosts: the hosts a run or probe would contact, with the settings that
// apply to each, printed instead of running (Ansible's --list-hosts).
#pragma once

#include "inventory/inventory.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace bpfleet::cli {

// One line per host under a header naming the inventory and the selector:
// name, user@address:port (or "local"), jump chain, sudo, host-key policy,
// tags and groups, in aligned columns.
void print_host_list(std::FILE* out, const inventory::Inventory& inventory,
                     const std::vector<inventory::InventoryHost>& hosts, const std::string& limit);

} // namespace bpfleet::cli
