// Quoting for the commands bpfleet sends to a host's shell (deploy scripts,
// the agent's path). Pure.
#pragma once

#include <string>
#include <string_view>

namespace bpfleet::fleet {

// `word` as one single-quoted POSIX shell word, whatever it holds.
std::string shell_quote(std::string_view word);

} // namespace bpfleet::fleet
