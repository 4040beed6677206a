// Small RunReports built in memory for the report module's tests: hosts in
// every status, programs with every verdict. Plain values; each call makes a
// fresh copy.
#pragma once

#include "model/run_report.hpp"

#include <string>
#include <vector>

namespace bpfleet::test {

// A program whose load stage has `load`; with --load-only when no attach is
// given. A failure carries a code and its evidence.
inline ProgramResult sample_program(std::string name, Verdict load,
                                    std::optional<Verdict> attach = std::nullopt) {
    ProgramResult p;
    p.name = std::move(name);
    p.section = "tracepoint/syscalls/sys_enter_getpid";
    p.type = "tracepoint";
    p.load.verdict = load;
    if (load == Verdict::Fail) {
        p.load.code = FailureCode::VerifierReject;
        p.load.errnum = 13;
        p.load.evidence = "R1 invalid mem access 'scalar'";
        p.load.log = VerifierLog{"0: (b7) r0 = 0\nR1 invalid mem access 'scalar'\n", 44, false, 5};
    }
    if (attach) {
        p.attach = StageResult{};
        p.attach->verdict = *attach;
        p.fire = StageResult{};
        p.fire->verdict = *attach;
        p.fire->fired = *attach == Verdict::Pass;
    }
    return p;
}

// A host that answered, with one check of `object` holding `programs`.
inline HostResult sample_host(std::string name, std::vector<ProgramResult> programs,
                              std::string object = "probe.bpf.o") {
    HostResult h;
    h.name = std::move(name);
    h.address = "192.0.2.1";
    h.port = 22;
    h.user = "ci";
    h.transport = "ssh";
    h.status = HostStatus::Ok;
    h.facts = HostFacts{};
    h.facts->arch = "x86_64";
    h.facts->kernel.release = "6.1.0-18-cloud-amd64";
    h.agent = AgentDeployment{"x86_64", std::string(64, 'a'), "/tmp/agent", true};
    ObjectCheck check;
    check.artifact = "build/" + object;
    check.object = std::move(object);
    check.object_sha256 = std::string(64, 'b');
    check.report.programs = std::move(programs);
    h.checks.push_back(std::move(check));
    h.duration_ms = 1234.5;
    return h;
}

// A host that gave no answer: `status` at `stage`.
inline HostResult sample_unanswered(std::string name, HostStatus status,
                                    std::string stage = "connect") {
    HostResult h;
    h.name = std::move(name);
    h.address = "192.0.2.9";
    h.port = 22;
    h.transport = "ssh";
    h.status = status;
    h.stage = std::move(stage);
    h.error = "cannot connect to 192.0.2.9:22: Connection refused";
    h.attempts = 3;
    return h;
}

} // namespace bpfleet::test
