// Runs one check in a disposable child process under a supervisor.
//
// The child enters private network and mount namespaces, loads the object,
// attaches and fires each program, and streams each result to the supervisor
// as a JSON line the moment it is known. The supervisor owns the scratch
// cgroup (and a reaper process that removes it should the supervisor itself
// be killed), enforces the watchdog timeout, stops the check when the
// controller hangs up, and assembles the report: on a timeout or a crash of
// the child every program still gets a verdict.
#pragma once

#include "bpf/fixups.hpp"
#include "bpf/object.hpp"
#include "model/check_result.hpp"

#include <string>

namespace bpfleet::agent {

struct CheckRunOptions {
    std::string name;
    std::size_t log_cap = 1 << 20;
    FixupRules rules;
    bool load_only = false;
    bool fire = true;
    unsigned timeout_seconds = 120;
    // Behave as on a kernel without BTF: /sys/kernel/btf hidden from the
    // check process (bpf::hide_kernel_btf).
    bool ignore_kernel_btf = false;
    // External kernel BTF (docs/btf.md): used where the kernel has none, or
    // always when forced. Checked before anything loads.
    std::string external_btf;
    std::string external_btf_name; // for the report; empty: external_btf
    bool force_external_btf = false;
    // The controller's end (serve's stdin), -1 for none. When it hangs up
    // (the controller gave up on this host, was cancelled or killed) nobody
    // waits for the answer: the check is killed at once and its sandbox
    // (scratch cgroup, namespaces) removed, instead of running on until the
    // watchdog.
    int hangup_fd = -1;
};

// Fills report.object, fixups, programs (and object_error) for `bytes`, and
// report.duration_ms with the time the check took.
void run_check_supervised(const ObjectBytes& bytes, const CheckRunOptions& options,
                          CheckReport& report);

} // namespace bpfleet::agent
