// One host's settings from the document's levels: for each key, the host's
// own value, else its groups' (which must agree), else [defaults], else
// ~/.ssh/config (for the address looked up as an alias), else the built-in
// default; host.origins records which. Tags are the union of all levels,
// vars are picked per key (host > groups > defaults). The jump hosts are
// only collected here (a JumpSource): expanding them needs every host
// resolved first (jump_chain.hpp). Used only inside src/inventory.
#pragma once

#include "common/result.hpp"
#include "inventory/document.hpp"
#include "inventory/inventory.hpp"
#include "inventory/jump_chain.hpp"
#include "inventory/ssh_config.hpp"

namespace bpfleet::inventory {

// INVENTORY_INVALID when two of the host's groups set one key differently
// and the host does not settle it.
Result<InventoryHost> resolve_host(const Document& doc, const RawHost& raw,
                                   const SshConfig* ssh_config, const PathContext& paths,
                                   JumpSource& jump);

} // namespace bpfleet::inventory
