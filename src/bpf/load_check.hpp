// The load stage of a check: load the whole object once; only when that
// fails, reopen it once per program with only that program autoloaded, so
// that every program gets its own verdict, errno and verifier log.
//
// Verifier logs are only requested at full level for programs that fail (a
// passing object is verified once, with BPF_LOG_STATS for the figures). Logs
// are kept up to a cap, the tail kept, `truncated` set when cut.
// Single-threaded: uses libbpf's process-wide print callback.
#pragma once

#include "bpf/classifier.hpp"
#include "bpf/fixups.hpp"
#include "bpf/object.hpp"
#include "model/check_result.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bpfleet::bpf {

struct LoadCheckOptions {
    std::size_t log_cap = 1 << 20; // bytes of verifier log kept per program
    FixupRules rules;
    // External kernel BTF for CO-RE (libbpf's btf_custom_path); empty: the
    // kernel's own.
    std::string btf_custom_path;
    // Called once the object is open and fixed up, before anything loads.
    std::function<void(const ObjectFacts&, const std::vector<Fixup>&)> on_object;
    // Called as each program's load verdict is known (index into facts.programs).
    std::function<void(std::size_t, const ProgramResult&)> on_program;
};

// A loaded program and the object that owns it; shared because one object
// owns several programs when the whole object loaded.
struct LoadedProgram {
    std::shared_ptr<OpenedObject> object;
    bpf_program* program = nullptr;
};

struct LoadCheckResult {
    ObjectFacts object;
    std::vector<Fixup> fixups;
    std::vector<ProgramResult> programs;
    std::vector<std::optional<LoadedProgram>> loaded; // parallel to programs
    std::optional<ObjectError> error;                 // the object itself is unusable
};

LoadCheckResult check_object_load(const ObjectBytes& bytes, const std::string& name,
                                  const LoadCheckOptions& options, const HostContext& host);

// Facts about this host that the classifier needs (capabilities, lockdown,
// kernel BTF). Reads /proc and /sys; never fails.
HostContext detect_host_context();

} // namespace bpfleet::bpf
