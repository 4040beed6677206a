// Runs the real bpfleet-agent binary as a subprocess for tests, capturing its
// stdout, stderr and exit status.
#pragma once

#include "model/check_result.hpp"

#include <optional>
#include <string>
#include <vector>

namespace bpfleet::test {

struct AgentRun {
    int exit_status = -1; // -1: did not exit normally
    std::string out;
    std::string err;
    std::optional<CheckReport> report; // stdout parsed as bpfleet.check/v1, when it is one
    std::string parse_error;
};

// Runs BPFLEET_AGENT_PATH with `args`; `stdin_data` is fed to its stdin.
AgentRun run_agent(const std::vector<std::string>& args, const std::string& stdin_data = {});

// Path of a test object built from tests/bpf/<name>.bpf.c.
std::string test_object(const std::string& name);

bool is_root();
// The kernel lets this process load a trivial BPF program.
bool bpf_available();

const ProgramResult* find_program(const CheckReport& report, const std::string& name);

} // namespace bpfleet::test
