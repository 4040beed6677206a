// Which way a loaded program is attached, triggered and observed in the
// sandbox, and whether its trigger is aimed at its target, chosen from its
// type, expected attach type and section name alone.
// A pure function, unit-tested without a kernel (docs/attach-strategies.md).
#pragma once

#include <bpf/libbpf.h>
#include <string>
#include <string_view>

namespace bpfleet::bpf {

enum class AttachKind {
    Tracepoint,    // tracepoint/CAT/NAME: perf event on tracefs id
    RawTracepoint, // raw_tp/NAME
    TpBtf,         // tp_btf/NAME (BTF-typed raw tracepoint, tracing link)
    Trampoline,    // fentry/fexit/fmod_ret (needs direct-call ftrace)
    Lsm,           // lsm/HOOK (BPF LSM + trampolines)
    Kprobe,        // kprobe/kretprobe/ksyscall; placeholders get a kallsyms symbol
    KprobeMulti,   // kprobe.multi/PATTERN
    Uprobe,        // uprobe/uretprobe; missing or short targets use the agent itself
    Usdt,          // usdt/...: probes in the agent itself when no target is named
    Iter,          // iter/TARGET: create one iterator and read it
    SocketFilter,  // a socketpair
    Tc,            // clsact on the sandbox's lo (ingress or egress)
    Xdp,           // generic-mode XDP on the sandbox's lo
    Cgroup,        // a throwaway cgroup (skb, sock, sock_addr, sockopt, sysctl, device, sockops)
    SkSkb,         // a scratch sockmap (stream parser / verdict)
    SkMsg,         // a scratch sockmap (msg verdict)
    SkLookup,      // the sandbox's network namespace
    FlowDissector, // the sandbox's network namespace
    PerfEvent,     // a software CPU clock event on this process
    Skip,          // needs a real subsystem (struct_ops, freplace, lwt, ...)
};

struct AttachPlan {
    AttachKind kind = AttachKind::Skip;
    std::string target;  // what it attaches to: "syscalls/sys_enter_getpid", "lo ingress", ...
    std::string trigger; // what makes it run, for the report
    std::string skip_reason;
    bool egress = false; // tc and cgroup_skb direction
    // Whether the trigger is made for this target, so that a program that
    // never runs means something (fire fails NOT_FIRED). Every sandbox target
    // and the default tracing targets are; a kernel function or tracepoint the
    // object names itself may lie off the generic workload's path (fire is
    // then skipped, not failed).
    bool aimed = true;
};

std::string_view to_string(AttachKind kind);

// `section` is the ELF section name; `type` and `attach` are libbpf's view
// after fixups.
AttachPlan plan_attach(std::string_view section, bpf_prog_type type, bpf_attach_type attach);

} // namespace bpfleet::bpf
