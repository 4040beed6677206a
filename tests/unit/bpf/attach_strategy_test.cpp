// plan_attach() (src/bpf/attach_strategy.cpp): the strategy, target, trigger
// and skip reason for a program from its section, type and attach type alone,
// and whether the trigger is aimed at the target (docs/attach-strategies.md).
#include "bpf/attach_strategy.hpp"

#include <gtest/gtest.h>
#include <ostream>

namespace bpfleet::bpf {
namespace {

struct Case {
    const char* section;
    bpf_prog_type type;
    bpf_attach_type attach;
    AttachKind kind;
    const char* target; // nullptr: not checked
    bool aimed;
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << c.section << " (type " << static_cast<int>(c.type) << ")";
}

class PlanAttach : public ::testing::TestWithParam<Case> {};

TEST_P(PlanAttach, KindTargetAndAim) {
    const Case& c = GetParam();
    AttachPlan plan = plan_attach(c.section, c.type, c.attach);
    EXPECT_EQ(to_string(plan.kind), to_string(c.kind));
    if (c.target) {
        EXPECT_EQ(plan.target, c.target);
    }
    EXPECT_EQ(plan.aimed, c.aimed);
    if (plan.kind == AttachKind::Skip) {
        EXPECT_FALSE(plan.skip_reason.empty());
    } else {
        EXPECT_TRUE(plan.skip_reason.empty());
        EXPECT_FALSE(plan.trigger.empty()) << "the report says what triggers it";
    }
}

// An attach type libbpf leaves at its zero value for most program types.
constexpr auto kNone = static_cast<bpf_attach_type>(0);

INSTANTIATE_TEST_SUITE_P(
    Tracing, PlanAttach,
    ::testing::Values(
        Case{"tracepoint/syscalls/sys_enter_getpid", BPF_PROG_TYPE_TRACEPOINT, kNone,
             AttachKind::Tracepoint, "syscalls/sys_enter_getpid", true},
        Case{"tp/sched/sched_switch", BPF_PROG_TYPE_TRACEPOINT, kNone, AttachKind::Tracepoint,
             "sched/sched_switch", false},
        Case{"tracepoint", BPF_PROG_TYPE_TRACEPOINT, kNone, AttachKind::Tracepoint,
             "syscalls/sys_enter_getpid", true},
        Case{"raw_tp/sys_enter", BPF_PROG_TYPE_RAW_TRACEPOINT, kNone, AttachKind::RawTracepoint,
             "sys_enter", true},
        Case{"raw_tracepoint/sys_exit", BPF_PROG_TYPE_RAW_TRACEPOINT, kNone,
             AttachKind::RawTracepoint, "sys_exit", true},
        Case{"raw_tp", BPF_PROG_TYPE_RAW_TRACEPOINT, kNone, AttachKind::RawTracepoint, "sys_enter",
             true},
        Case{"raw_tp.w/sched_switch", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, kNone,
             AttachKind::RawTracepoint, "sched_switch", false},
        Case{"tp_btf/sys_enter", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, AttachKind::TpBtf,
             "sys_enter", true},
        Case{"tp_btf/sched_switch", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, AttachKind::TpBtf,
             "sched_switch", false},
        Case{"fentry/do_unlinkat", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, AttachKind::Trampoline,
             "do_unlinkat", false},
        Case{"fexit/do_unlinkat", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, AttachKind::Trampoline,
             nullptr, false},
        Case{"fmod_ret/security_file_open", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN,
             AttachKind::Trampoline, nullptr, false},
        Case{"iter/task", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, AttachKind::Iter, "task", true},
        Case{"lsm/file_open", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, AttachKind::Lsm, "file_open", false},
        Case{"kprobe/do_unlinkat", BPF_PROG_TYPE_KPROBE, kNone, AttachKind::Kprobe, "do_unlinkat",
             false},
        Case{"kprobe", BPF_PROG_TYPE_KPROBE, kNone, AttachKind::Kprobe, "", true},
        Case{"kretprobe", BPF_PROG_TYPE_KPROBE, kNone, AttachKind::Kprobe, "", true},
        Case{"ksyscall/getpid", BPF_PROG_TYPE_KPROBE, kNone, AttachKind::Kprobe, "getpid", false},
        Case{"kprobe.multi/vfs_*", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI,
             AttachKind::KprobeMulti, "vfs_*", false},
        Case{"kretprobe.multi/vfs_*", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI,
             AttachKind::KprobeMulti, nullptr, false},
        Case{"uprobe", BPF_PROG_TYPE_KPROBE, kNone, AttachKind::Uprobe, "", true},
        Case{"uretprobe/libc:malloc", BPF_PROG_TYPE_KPROBE, kNone, AttachKind::Uprobe,
             "libc:malloc", true},
        Case{"usdt", BPF_PROG_TYPE_KPROBE, kNone, AttachKind::Usdt, "", true},
        Case{"perf_event", BPF_PROG_TYPE_PERF_EVENT, kNone, AttachKind::PerfEvent, nullptr, true}));

INSTANTIATE_TEST_SUITE_P(
    Sandbox, PlanAttach,
    ::testing::Values(
        Case{"socket", BPF_PROG_TYPE_SOCKET_FILTER, kNone, AttachKind::SocketFilter, nullptr, true},
        Case{"tc", BPF_PROG_TYPE_SCHED_CLS, kNone, AttachKind::Tc,
             "clsact ingress on the sandbox's lo", true},
        Case{"tc/egress", BPF_PROG_TYPE_SCHED_CLS, kNone, AttachKind::Tc,
             "clsact egress on the sandbox's lo", true},
        Case{"xdp", BPF_PROG_TYPE_XDP, BPF_XDP, AttachKind::Xdp, nullptr, true},
        Case{"cgroup_skb/ingress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS,
             AttachKind::Cgroup, "a throwaway cgroup, inet ingress", true},
        Case{"cgroup_skb/egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS,
             AttachKind::Cgroup, "a throwaway cgroup, inet egress", true},
        Case{"cgroup/connect4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT,
             AttachKind::Cgroup, "a throwaway cgroup", true},
        Case{"cgroup/sysctl", BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_CGROUP_SYSCTL, AttachKind::Cgroup,
             nullptr, true},
        Case{"cgroup/dev", BPF_PROG_TYPE_CGROUP_DEVICE, BPF_CGROUP_DEVICE, AttachKind::Cgroup,
             nullptr, true},
        Case{"sockops", BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS, AttachKind::Cgroup, nullptr,
             true},
        Case{"sk_skb/stream_verdict", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_VERDICT,
             AttachKind::SkSkb, nullptr, true},
        Case{"sk_msg", BPF_PROG_TYPE_SK_MSG, BPF_SK_MSG_VERDICT, AttachKind::SkMsg, nullptr, true},
        Case{"sk_lookup", BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP, AttachKind::SkLookup, nullptr,
             true},
        Case{"flow_dissector", BPF_PROG_TYPE_FLOW_DISSECTOR, BPF_FLOW_DISSECTOR,
             AttachKind::FlowDissector, nullptr, true}));

// Programs that need a real subsystem are never attached; each says why.
INSTANTIATE_TEST_SUITE_P(
    Skipped, PlanAttach,
    ::testing::Values(
        Case{"struct_ops/cc_init", BPF_PROG_TYPE_STRUCT_OPS, kNone, AttachKind::Skip, "", true},
        Case{"freplace/handler", BPF_PROG_TYPE_EXT, kNone, AttachKind::Skip, "", true},
        Case{"lwt_in", BPF_PROG_TYPE_LWT_IN, kNone, AttachKind::Skip, "", true},
        Case{"action", BPF_PROG_TYPE_SCHED_ACT, kNone, AttachKind::Skip, "", true},
        Case{"sk_reuseport", BPF_PROG_TYPE_SK_REUSEPORT, kNone, AttachKind::Skip, "", true},
        Case{"lirc_mode2", BPF_PROG_TYPE_LIRC_MODE2, kNone, AttachKind::Skip, "", true},
        Case{"syscall", BPF_PROG_TYPE_SYSCALL, kNone, AttachKind::Skip, "", true},
        Case{"xdp/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, AttachKind::Skip, "", true},
        Case{"xdp/cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP, AttachKind::Skip, "", true},
        Case{"fentry.s/x", BPF_PROG_TYPE_TRACING, BPF_LSM_MAC, AttachKind::Skip, "", true}));

TEST(PlanAttachDetails, SkipReasonsSayWhatIsNeeded) {
    EXPECT_NE(plan_attach("struct_ops/x", BPF_PROG_TYPE_STRUCT_OPS, kNone)
                  .skip_reason.find("never attached on a live host"),
              std::string::npos);
    EXPECT_NE(
        plan_attach("xdp/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP).skip_reason.find("redirect"),
        std::string::npos);
    auto unknown = plan_attach("x", static_cast<bpf_prog_type>(999), kNone);
    EXPECT_EQ(unknown.kind, AttachKind::Skip);
    EXPECT_NE(unknown.skip_reason.find("999"), std::string::npos);
}

TEST(PlanAttachDetails, DirectionAndTriggers) {
    EXPECT_TRUE(plan_attach("tc/egress", BPF_PROG_TYPE_SCHED_CLS, kNone).egress);
    EXPECT_FALSE(plan_attach("classifier", BPF_PROG_TYPE_SCHED_CLS, kNone).egress);
    EXPECT_TRUE(
        plan_attach("cgroup_skb/egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS).egress);
    EXPECT_NE(plan_attach("tp/x/y", BPF_PROG_TYPE_TRACEPOINT, kNone).trigger.find("getpid"),
              std::string::npos);
    EXPECT_NE(plan_attach("cgroup/sysctl", BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_CGROUP_SYSCTL)
                  .trigger.find("/proc/sys/net/ipv4/ip_forward"),
              std::string::npos);
}

TEST(PlanAttachDetails, EveryKindHasAName) {
    for (int k = 0; k <= static_cast<int>(AttachKind::Skip); ++k) {
        auto kind = static_cast<AttachKind>(k);
        EXPECT_FALSE(to_string(kind).empty());
        EXPECT_TRUE(kind == AttachKind::Skip || to_string(kind) != "skip") << k;
    }
}

} // namespace
} // namespace bpfleet::bpf
