// The agent's commands, each called by main() with the arguments after the
// command name; each returns the process exit status (output.hpp).
#pragma once

#include <span>

namespace bpfleet::agent {

int run_check(std::span<char*> args);   // check_command.cpp
int run_serve(std::span<char*> args);   // serve_command.cpp
int run_probe(std::span<char*> args);   // probe.cpp
int run_version(std::span<char*> args); // identity.cpp

} // namespace bpfleet::agent
