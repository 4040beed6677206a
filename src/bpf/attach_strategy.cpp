#include "bpf/attach_strategy.hpp"

#include <array>
#include <utility>

namespace bpfleet::bpf {
namespace {

constexpr std::string_view kSyscallWorkload =
    "a syscall workload (getpid, openat/read, write, nanosleep, socket, fork+exit)";
constexpr std::string_view kPacketOnLo = "a UDP packet to 127.0.0.1 on the sandbox's lo";

// "tracepoint/syscalls/sys_enter_getpid" -> "syscalls/sys_enter_getpid".
std::string after_first_slash(std::string_view section) {
    auto pos = section.find('/');
    return pos == std::string_view::npos ? std::string() : std::string(section.substr(pos + 1));
}

AttachPlan make(AttachKind kind, std::string target, std::string_view trigger, bool aimed = true) {
    AttachPlan p;
    p.kind = kind;
    p.target = std::move(target);
    p.trigger = trigger;
    p.aimed = aimed;
    return p;
}

// The tracepoints the syscall workload is sure to hit.
bool is_syscall_tracepoint(std::string_view name) {
    return name == "syscalls/sys_enter_getpid" || name == "sys_enter" || name == "sys_exit";
}

AttachPlan skip(std::string reason) {
    AttachPlan p;
    p.kind = AttachKind::Skip;
    p.skip_reason = std::move(reason);
    return p;
}

} // namespace

std::string_view to_string(AttachKind kind) {
    static constexpr std::array<std::pair<AttachKind, std::string_view>, 21> kNames = {{
        {AttachKind::Tracepoint, "tracepoint"},
        {AttachKind::RawTracepoint, "raw_tracepoint"},
        {AttachKind::TpBtf, "tp_btf"},
        {AttachKind::Trampoline, "trampoline"},
        {AttachKind::Lsm, "lsm"},
        {AttachKind::Kprobe, "kprobe"},
        {AttachKind::KprobeMulti, "kprobe_multi"},
        {AttachKind::Uprobe, "uprobe"},
        {AttachKind::Usdt, "usdt"},
        {AttachKind::Iter, "iter"},
        {AttachKind::SocketFilter, "socket_filter"},
        {AttachKind::Tc, "tc"},
        {AttachKind::Xdp, "xdp"},
        {AttachKind::Cgroup, "cgroup"},
        {AttachKind::SkSkb, "sk_skb"},
        {AttachKind::SkMsg, "sk_msg"},
        {AttachKind::SkLookup, "sk_lookup"},
        {AttachKind::FlowDissector, "flow_dissector"},
        {AttachKind::PerfEvent, "perf_event"},
        {AttachKind::Skip, "skip"},
    }};
    for (const auto& [k, name] : kNames) {
        if (k == kind) {
            return name;
        }
    }
    return "skip";
}

AttachPlan plan_attach(std::string_view section, bpf_prog_type type, bpf_attach_type attach) {
    const std::string rest = after_first_slash(section);
    switch (type) {
    case BPF_PROG_TYPE_TRACEPOINT:
        return make(AttachKind::Tracepoint, rest.empty() ? "syscalls/sys_enter_getpid" : rest,
                    kSyscallWorkload, rest.empty() || is_syscall_tracepoint(rest));
    case BPF_PROG_TYPE_RAW_TRACEPOINT:
    case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
        return make(AttachKind::RawTracepoint, rest.empty() ? "sys_enter" : rest, kSyscallWorkload,
                    rest.empty() || is_syscall_tracepoint(rest));
    case BPF_PROG_TYPE_TRACING:
        switch (attach) {
        case BPF_TRACE_RAW_TP:
            return make(AttachKind::TpBtf, rest, kSyscallWorkload,
                        rest == "sys_enter" || rest == "sys_exit");
        case BPF_TRACE_FENTRY:
        case BPF_TRACE_FEXIT:
        case BPF_MODIFY_RETURN:
            return make(AttachKind::Trampoline, rest, kSyscallWorkload, false);
        case BPF_TRACE_ITER:
            return make(AttachKind::Iter, rest, "creating one iterator and reading it to the end");
        default:
            return skip("tracing program with attach type " +
                        std::to_string(static_cast<int>(attach)) + " has no safe target");
        }
    case BPF_PROG_TYPE_LSM:
        return make(AttachKind::Lsm, rest, kSyscallWorkload, false);
    case BPF_PROG_TYPE_KPROBE:
        if (section.starts_with("kprobe.multi") || section.starts_with("kretprobe.multi")) {
            return make(AttachKind::KprobeMulti, rest, kSyscallWorkload, false);
        }
        if (section.starts_with("uprobe") || section.starts_with("uretprobe")) {
            return make(AttachKind::Uprobe, rest, "calling the agent's own probe function");
        }
        if (section.starts_with("usdt")) {
            return make(AttachKind::Usdt, rest, "firing the agent's own USDT probe");
        }
        // A bare section is a placeholder: the attach picks a function the
        // syscall workload reaches.
        return make(AttachKind::Kprobe, rest, kSyscallWorkload, rest.empty());
    case BPF_PROG_TYPE_PERF_EVENT:
        return make(AttachKind::PerfEvent, "software cpu-clock event on the agent",
                    "20 ms of CPU work under a 10 kHz software clock");
    case BPF_PROG_TYPE_SOCKET_FILTER:
        return make(AttachKind::SocketFilter, "a unix datagram socketpair",
                    "one datagram written through the socketpair");
    case BPF_PROG_TYPE_SCHED_CLS: {
        AttachPlan p = make(AttachKind::Tc, "", kPacketOnLo);
        p.egress = section.find("egress") != std::string_view::npos;
        p.target =
            p.egress ? "clsact egress on the sandbox's lo" : "clsact ingress on the sandbox's lo";
        return p;
    }
    case BPF_PROG_TYPE_XDP:
        if (attach == BPF_XDP_DEVMAP || attach == BPF_XDP_CPUMAP) {
            return skip("XDP programs for devmap/cpumap entries run only from a redirect");
        }
        return make(AttachKind::Xdp, "generic XDP on the sandbox's lo", kPacketOnLo);
    case BPF_PROG_TYPE_CGROUP_SKB: {
        AttachPlan p = make(AttachKind::Cgroup, "", kPacketOnLo);
        p.egress = attach == BPF_CGROUP_INET_EGRESS;
        p.target =
            p.egress ? "a throwaway cgroup, inet egress" : "a throwaway cgroup, inet ingress";
        return p;
    }
    case BPF_PROG_TYPE_CGROUP_SOCK:
    case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
    case BPF_PROG_TYPE_CGROUP_SOCKOPT:
    case BPF_PROG_TYPE_SOCK_OPS:
        return make(AttachKind::Cgroup, "a throwaway cgroup",
                    "socket, bind, connect, sendmsg, setsockopt/getsockopt and a TCP "
                    "connection on lo from inside the cgroup");
    case BPF_PROG_TYPE_CGROUP_SYSCTL:
        return make(AttachKind::Cgroup, "a throwaway cgroup",
                    "reading /proc/sys/net/ipv4/ip_forward from inside the cgroup");
    case BPF_PROG_TYPE_CGROUP_DEVICE:
        return make(AttachKind::Cgroup, "a throwaway cgroup",
                    "opening /dev/null from inside the cgroup");
    case BPF_PROG_TYPE_SK_SKB:
        return make(AttachKind::SkSkb, "a scratch sockmap",
                    "a TCP connection on lo whose sockets are in the sockmap");
    case BPF_PROG_TYPE_SK_MSG:
        return make(AttachKind::SkMsg, "a scratch sockmap",
                    "a TCP connection on lo whose sockets are in the sockmap");
    case BPF_PROG_TYPE_SK_LOOKUP:
        return make(AttachKind::SkLookup, "the sandbox's network namespace",
                    "a TCP connection on lo");
    case BPF_PROG_TYPE_FLOW_DISSECTOR:
        return make(AttachKind::FlowDissector, "the sandbox's network namespace",
                    "packets on lo seen by a hash-fanout packet socket");
    case BPF_PROG_TYPE_STRUCT_OPS:
        return skip("struct_ops programs replace a kernel subsystem's operations "
                    "(TCP congestion control, sched_ext): never attached on a live host");
    case BPF_PROG_TYPE_EXT:
        return skip("freplace programs need their target BPF program loaded by the real loader");
    case BPF_PROG_TYPE_LWT_IN:
    case BPF_PROG_TYPE_LWT_OUT:
    case BPF_PROG_TYPE_LWT_XMIT:
    case BPF_PROG_TYPE_LWT_SEG6LOCAL:
        return skip("lightweight-tunnel programs attach to routes: needs a real route set-up");
    case BPF_PROG_TYPE_SCHED_ACT:
        return skip("tc actions need a filter that calls them: needs the real tc set-up");
    case BPF_PROG_TYPE_SK_REUSEPORT:
        return skip("reuseport programs need the application's socket group");
    case BPF_PROG_TYPE_LIRC_MODE2:
        return skip("lirc programs need an infrared receiver device");
    case BPF_PROG_TYPE_SYSCALL:
        return skip("syscall programs are run by their loader, never attached");
    default:
        return skip("no safe attach target for program type " +
                    std::to_string(static_cast<int>(type)));
    }
}

} // namespace bpfleet::bpf
