// attach_and_fire(): the plan (attach_strategy.cpp), the attach
// (attachers.cpp), the trigger (attach_workloads.cpp) and the run count, into
// the attach and fire stages of a program's result.
#include "bpf/attach.hpp"

#include "bpf/attachers.hpp"

#include <bpf/bpf.h>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace bpfleet::bpf {

RunStats::RunStats() {
    m_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (m_fd < 0) {
        m_error =
            std::string("BPF_ENABLE_STATS failed (kernel before 5.8?): ") + std::strerror(errno);
    }
}

RunStats::~RunStats() {
    if (m_fd >= 0) {
        close(m_fd);
    }
}

std::optional<std::uint64_t> program_run_count(int prog_fd) {
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) {
        return std::nullopt;
    }
    return info.run_cnt;
}

AttachFireResult attach_and_fire(bpf_program* prog, const AttachEnv& env) {
    AttachFireResult r;
    const char* section = bpf_program__section_name(prog);
    const AttachPlan plan = plan_attach(section ? section : "", bpf_program__type(prog),
                                        bpf_program__expected_attach_type(prog));
    r.attach.strategy = std::string(to_string(plan.kind));
    r.fire.trigger = plan.trigger;
    if (plan.kind == AttachKind::Skip) {
        r.attach.verdict = Verdict::Skip;
        r.attach.message = plan.skip_reason;
        r.fire.verdict = Verdict::Skip;
        r.fire.message = "not attached";
        return r;
    }
    if (plan.kind == AttachKind::Cgroup && !env.cgroup) {
        r.attach.verdict = Verdict::Skip;
        r.attach.message = "no scratch cgroup could be made on this host";
        r.fire.verdict = Verdict::Skip;
        r.fire.message = "not attached";
        return r;
    }

    auto attached = attach_program(prog, plan, env);
    if (!attached) {
        const AttachError& e = attached.error();
        AttachFailure failure;
        failure.errnum = e.errnum;
        failure.strategy = r.attach.strategy;
        failure.message = e.message;
        failure.libbpf_messages = e.libbpf_messages;
        auto c = classify_attach_failure(failure, env.host);
        r.attach.verdict = Verdict::Fail;
        r.attach.target = plan.target;
        r.attach.code = c.code;
        r.attach.errnum = e.errnum;
        r.attach.message = e.message;
        r.attach.evidence = c.evidence;
        r.attach.hint = c.hint;
        r.attach.libbpf_messages = e.libbpf_messages;
        r.fire.verdict = Verdict::Skip;
        r.fire.message = "not attached";
        return r;
    }
    auto& a = **attached;
    r.attach.verdict = Verdict::Pass;
    r.attach.target = a.target;

    if (!env.fire) {
        r.fire.verdict = Verdict::Skip;
        r.fire.message = "--no-fire: programs were attached but not triggered";
        return r;
    }
    if (!a.trigger) {
        r.fire.verdict = Verdict::Skip;
        r.fire.message = "the program attaches to another binary; bpfleet cannot trigger it";
        r.fire.trigger.clear();
        r.fire.trigger = "none";
        return r;
    }
    const int prog_fd = bpf_program__fd(prog);
    auto before = env.stats_enabled ? program_run_count(prog_fd) : std::nullopt;
    std::uint64_t runs = 0;
    bool counted = before.has_value();
    for (int round = 0; round < 5; ++round) {
        a.trigger();
        if (!counted) {
            break;
        }
        auto after = program_run_count(prog_fd);
        if (!after) {
            counted = false;
            break;
        }
        runs = *after - *before;
        if (runs > 0) {
            break;
        }
    }
    if (!counted) {
        r.fire.verdict = Verdict::Skip;
        r.fire.message =
            env.stats_enabled ? "the kernel does not report run counts" : env.stats_error;
        return r;
    }
    r.fire.fired = runs > 0;
    r.fire.run_count = runs;
    if (runs > 0) {
        r.fire.verdict = Verdict::Pass;
    } else if (!plan.aimed) {
        // A target the object names itself (a kernel function, a tracepoint)
        // that the generic workload may simply not reach: not a failure.
        r.fire.verdict = Verdict::Skip;
        r.fire.message = "attached; the generic workload did not reach '" + plan.target +
                         "', so whether it fires here is unknown";
    } else {
        r.fire.verdict = Verdict::Fail;
        r.fire.code = FailureCode::NotFired;
        r.fire.message = "attached, triggered, and never ran";
        r.fire.evidence = "run_cnt stayed 0 after: " + plan.trigger;
        r.fire.hint = std::string(default_hint(FailureCode::NotFired));
    }
    return r;
}

} // namespace bpfleet::bpf
