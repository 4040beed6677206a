// The bpfleet command line: each subcommand registers itself on the CLI11 app
// and returns the action to run when it was chosen. Actions return the
// process exit status (docs/cli.md): 0 ok, 1 compatibility failure or
// regression, 2 usage/config/artifact error, 3 some hosts gave no answer.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace bpfleet::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailures = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitHostsUnanswered = 3;

using Action = std::function<int()>;

// What `bpfleet version` and `bpfleet --version` print (no final newline).
std::string version_text();

// Every register_* adds one subcommand to `app`; the returned action runs it
// (reading the options bound during registration).
Action register_version(CLI::App& app);

// bpfleet run: check artifacts on the fleet (run_command.cpp).
Action register_run(CLI::App& app);
// bpfleet probe: the fleet's facts only (run_command.cpp).
Action register_probe(CLI::App& app);
// bpfleet inspect ARTIFACT [--arch ARCH] [--json] (cli/inspect_command.cpp)
Action register_inspect(CLI::App& app);
// bpfleet pull ARTIFACT [--arch ARCH]... (cli/pull_command.cpp)
Action register_pull(CLI::App& app);
// bpfleet report diff|render|merge (cli/report_command.cpp)
Action register_report(CLI::App& app);
// bpfleet lab up|status|down (cli/lab_command.cpp, lab/)
Action register_lab(CLI::App& app);
// bpfleet btf gen (cli/btf_command.cpp, btf/btf_gen.hpp)
Action register_btf(CLI::App& app);

} // namespace bpfleet::cli
