// The inventory's rules for names and keys: which host, group and tag names
// are valid, which keys look like credentials (refused everywhere), and a
// "did you mean" for a misspelt key or name. Pure functions; used only inside
// src/inventory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::inventory {

// Host, group and tag names: letters, digits, '.', '_', '-', starting with a
// letter or digit; safe as folder names and unambiguous in selectors.
bool is_valid_name(std::string_view name);

// Whether a key names a secret (password, passwd, passphrase, pass, *_pass;
// any case): the inventory never holds one.
bool is_credential_key(std::string_view key);

// " (did you mean 'x'?)" for the candidate closest to `key` when it is at
// most two edits away, else "".
std::string suggestion(std::string_view key, const std::vector<std::string_view>& candidates);

} // namespace bpfleet::inventory
