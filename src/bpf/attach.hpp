// Attaching loaded programs in the sandbox, triggering them, and telling
// whether they ran (BPF_ENABLE_STATS run counts). Everything made here is
// owned by file descriptors or by the sandbox's namespaces, so it disappears
// with the process even when it is killed. The pieces: attach_strategy.hpp
// (the plan), attachers.hpp (the attach), attach_workloads.hpp (the
// triggers), attach_targets.hpp (kallsyms and the agent's own functions).
// Single-threaded; call from the disposable check process only.
#pragma once

#include "bpf/attach_strategy.hpp"
#include "bpf/classifier.hpp"
#include "bpf/sandbox.hpp"
#include "model/check_result.hpp"

#include <bpf/libbpf.h>
#include <optional>
#include <string>

namespace bpfleet::bpf {

struct AttachEnv {
    int lo_ifindex = 1;
    const ScratchCgroup* cgroup = nullptr; // null: cgroup programs are skipped
    bool fire = true;                      // trigger and count runs
    bool stats_enabled = false;            // BPF_ENABLE_STATS is in force
    std::string stats_error;               // why not, when not
    HostContext host;
};

struct AttachFireResult {
    StageResult attach;
    StageResult fire;
};

// Holds BPF_ENABLE_STATS(BPF_STATS_RUN_TIME) while alive (kernel 5.8+).
class RunStats {
public:
    RunStats();
    ~RunStats();
    RunStats(const RunStats&) = delete;
    RunStats& operator=(const RunStats&) = delete;
    bool enabled() const { return m_fd >= 0; }
    const std::string& error() const { return m_error; }

private:
    int m_fd = -1;
    std::string m_error;
};

// run_cnt of a loaded program, nullopt when the kernel does not report it.
std::optional<std::uint64_t> program_run_count(int prog_fd);

AttachFireResult attach_and_fire(bpf_program* prog, const AttachEnv& env);

// A function in the agent's own binary that uprobes attach to by default.
extern "C" void bpfleet_uprobe_target(int value);
// The agent's own USDT probe bpfleet:trigger, fired by calling this.
extern "C" void bpfleet_usdt_target(int value);

} // namespace bpfleet::bpf
