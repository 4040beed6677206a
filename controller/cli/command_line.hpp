// The command line bpfleet was started with, kept by main for what a run
// writes about itself: report.json's `run.command_line` and the command that
// resumes a cancelled run. Secrets (the value of --creds) never leave here.
#pragma once

#include <string>
#include <vector>

namespace bpfleet::cli {

// main() calls this once, before parsing.
void set_command_line(int argc, char** argv);

// The arguments as given, argv[0] included, with the value of --creds
// replaced by "<hidden>".
const std::vector<std::string>& command_line();

// The command that finishes an interrupted run: the same arguments with
// `--resume JOURNAL` (any earlier --resume dropped), each shell-quoted.
std::string resume_command(const std::string& journal);

} // namespace bpfleet::cli
