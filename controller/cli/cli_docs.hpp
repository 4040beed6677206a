// The man pages and shell completions, written at build time from the
// command line itself (controller/tools/docgen.cpp): for bpfleet by walking
// its CLI11 app (app.hpp), for bpfleet-agent from its own --help texts. What
// a user reads in `man bpfleet` or gets on TAB is then what the binary takes.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <string_view>

namespace bpfleet::cli {

// bash: `complete -F _bpfleet bpfleet`; subcommands, their options, the
// values of options with a fixed set (--color WHEN, ...), files otherwise.
std::string bash_completion(const CLI::App& app);
// zsh: `#compdef bpfleet`, the same knowledge with descriptions.
std::string zsh_completion(const CLI::App& app);
// troff for man(1): every subcommand with every option, the exit statuses
// and the environment. `date` goes in the title line ("2026-12-06").
std::string man_page(const CLI::App& app, std::string_view date);

// bpfleet-agent's, from its help texts: `usage` is `bpfleet-agent help`,
// `commands` each command's `--help`, by command name.
std::string agent_man_page(std::string_view usage,
                           const std::map<std::string, std::string>& commands,
                           std::string_view date);
std::string agent_bash_completion(const std::map<std::string, std::string>& commands);
std::string agent_zsh_completion(const std::map<std::string, std::string>& commands);

} // namespace bpfleet::cli
