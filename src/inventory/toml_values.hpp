// TOML++ nodes as the inventory reader needs them: where a node was written
// ("file:line:col"), its type in words for messages, and its value as JSON
// (how vars are kept). Used only inside src/inventory, which compiles TOML++
// in (bpfleet::tomlpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <toml++/toml.h>

namespace bpfleet::inventory {

// "file:line:col" of the start of `region`.
std::string where(std::string_view source, const toml::source_region& region);

// "a string", "an integer", "a table", ... for "must be X, not Y" messages.
std::string_view type_name(const toml::node& node);

// Strings, numbers, booleans, arrays and tables map one to one; dates and
// times become ISO 8601 strings ("2024-05-01", "07:30:00",
// "2024-05-01T10:20:30Z", offsets as +hh:mm).
nlohmann::json to_json(const toml::node& node);

} // namespace bpfleet::inventory
