// Command-line mistakes reported the way the rest of bpfleet reports errors:
// one `bpfleet: ...` line each, with "did you mean" for a mistyped option or
// subcommand, and where to find the help.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace bpfleet::cli {

// The lines to print for a parse error of `app` (after app.parse() threw).
// Unknown options and subcommands in argv get the nearest known name.
std::vector<std::string> describe_parse_error(const CLI::App& app, const CLI::ParseError& error,
                                              const std::vector<std::string>& args);

} // namespace bpfleet::cli
