#include "privileged/agent_runner.hpp"

#include "common/subprocess.hpp"

#include <bpf/libbpf.h>
#include <chrono>
#include <unistd.h>

namespace bpfleet::test {

AgentRun run_agent(const std::vector<std::string>& args, const std::string& stdin_data) {
    AgentRun run;
    std::vector<std::string> argv{BPFLEET_AGENT_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    // Longer than any --timeout a test gives the agent; the agent may stop
    // reading stdin early (an oversized object): run_process copes.
    auto result = run_process(argv, {.input = stdin_data, .timeout = std::chrono::minutes(5)});
    if (!result) {
        run.err = result.error().describe();
        return run;
    }
    run.out = std::move(result->out);
    run.err = std::move(result->err);
    if (result->timed_out) {
        run.err += "\n(killed: the agent ran for more than 5 minutes)";
    }
    run.exit_status = result->status.exited() ? result->status.code() : -1;
    auto parsed = parse_check_report(run.out);
    if (parsed) {
        run.report = std::move(*parsed);
    } else {
        run.parse_error = parsed.error().message;
    }
    return run;
}

std::string test_object(const std::string& name) {
    return std::string(BPFLEET_TEST_BPF_DIR) + "/" + name + ".bpf.o";
}

bool is_root() {
    return geteuid() == 0;
}

bool bpf_available() {
    return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SOCKET_FILTER, nullptr) == 1;
}

const ProgramResult* find_program(const CheckReport& report, const std::string& name) {
    for (const auto& p : report.programs) {
        if (p.name == name) {
            return &p;
        }
    }
    return nullptr;
}

} // namespace bpfleet::test
