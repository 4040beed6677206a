// The agent's two output channels and exit statuses: documents and protocol
// lines go to stdout (flushed at once, so a reader never waits on a buffer),
// messages for a person to stderr with a "bpfleet-agent: " prefix.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace bpfleet::agent {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailures = 1;
inline constexpr int kExitUsage = 2;

void write_stdout(std::string_view text);
void log_error(std::string_view text);

// For a command whose only option is -h/--help: kExitOk after printing
// `usage` to stdout when asked for help; kExitUsage after naming the first
// argument it does not take (with `usage` on stderr); nullopt: run it.
std::optional<int> help_or_refuse(std::string_view command, std::span<char*> args,
                                  std::string_view usage);

} // namespace bpfleet::agent
