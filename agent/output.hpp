// The agent's two output channels and exit statuses: documents and protocol
// lines go to stdout (flushed at once, so a reader never waits on a buffer),
// messages for a person to stderr with a "bpfleet-agent: " prefix.
#pragma once

#include <string_view>

namespace bpfleet::agent {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailures = 1;
inline constexpr int kExitUsage = 2;

void write_stdout(std::string_view text);
void log_error(std::string_view text);

} // namespace bpfleet::agent
