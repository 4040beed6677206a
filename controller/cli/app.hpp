// The whole bpfleet command line in one place: the CLI11 app with every
// subcommand registered and the action of each. main() parses and runs it;
// the build's docs generator (cli_docs.hpp) walks the same app to write the
// man page and the shell completions, so they cannot drift from the flags.
#pragma once

#include "cli/commands.hpp"

#include <memory>
#include <utility>
#include <vector>

namespace bpfleet::cli {

struct CommandLine {
    CLI::App app{"bpfleet: do these eBPF programs load, attach and run on our machines?",
                 "bpfleet"};
    std::vector<std::pair<CLI::App*, Action>> actions; // one per top-level subcommand
};

std::unique_ptr<CommandLine> make_command_line();

} // namespace bpfleet::cli
