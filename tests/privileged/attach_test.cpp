// Attach and fire, one case per strategy, on this machine's kernel through
// the real agent. This kernel (6.18 here and in CI) has no kprobes and no
// direct-call ftrace: those cases assert the exact codes instead of skipping.

#include "privileged/agent_runner.hpp"
#include "support/require.hpp"

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>

namespace bpfleet::test {
namespace {

struct Expect {
    const char* object;
    const char* program;
    const char* strategy;
    Verdict attach;
    FailureCode attach_code; // for a failed attach
    Verdict fire;            // pass: fired; fail: NOT_FIRED; skip: not triggered
};

void PrintTo(const Expect& e, std::ostream* os) {
    *os << e.object << "/" << e.program;
}

class AttachStrategy : public ::testing::TestWithParam<Expect> {
protected:
    void SetUp() override {
        BPFLEET_REQUIRE(is_root(), "attaching BPF programs needs root");
        BPFLEET_REQUIRE(bpf_available(), "the kernel refuses BPF programs here");
    }
};

// One agent run per object, shared by the cases of that object.
const CheckReport& report_of(const std::string& object) {
    static std::map<std::string, CheckReport> cache;
    auto it = cache.find(object);
    if (it == cache.end()) {
        auto run = run_agent({"check", "--object", test_object(object), "--timeout", "60"});
        EXPECT_TRUE(run.report) << run.parse_error << "\n" << run.err;
        it = cache.emplace(object, run.report.value_or(CheckReport{})).first;
    }
    return it->second;
}

TEST_P(AttachStrategy, AttachesAndFires) {
    const Expect& e = GetParam();
    const auto& report = report_of(e.object);
    const auto* p = find_program(report, e.program);
    ASSERT_NE(p, nullptr) << e.program;
    ASSERT_EQ(p->load.verdict, Verdict::Pass) << p->load.evidence;
    ASSERT_TRUE(p->attach && p->fire);
    EXPECT_EQ(p->attach->strategy, e.strategy);
    EXPECT_EQ(to_string(p->attach->verdict), to_string(e.attach))
        << p->attach->message << " / " << p->attach->evidence;
    if (e.attach == Verdict::Fail) {
        EXPECT_EQ(to_string(p->attach->code), to_string(e.attach_code)) << p->attach->evidence;
        EXPECT_NE(p->attach->errnum, 0);
        EXPECT_FALSE(p->attach->evidence.empty());
        EXPECT_FALSE(p->attach->hint.empty());
    }
    if (e.attach == Verdict::Pass) {
        EXPECT_FALSE(p->attach->target.empty());
    }
    if (e.attach == Verdict::Skip) {
        EXPECT_FALSE(p->attach->message.empty()) << "a skip always says why";
    }
    EXPECT_EQ(to_string(p->fire->verdict), to_string(e.fire)) << p->fire->message;
    if (e.fire == Verdict::Pass) {
        ASSERT_TRUE(p->fire->fired.has_value());
        EXPECT_TRUE(*p->fire->fired);
        ASSERT_TRUE(p->fire->run_count);
        EXPECT_GT(*p->fire->run_count, 0u);
        EXPECT_FALSE(p->fire->trigger.empty());
    }
}

constexpr auto P = Verdict::Pass;
constexpr auto F = Verdict::Fail;
constexpr auto S = Verdict::Skip;
constexpr auto N = FailureCode::None;

INSTANTIATE_TEST_SUITE_P(
    Strategies, AttachStrategy,
    ::testing::Values(Expect{"pass", "tp_getpid", "tracepoint", P, N, P},
                      Expect{"attach_tracing", "raw_tp_sys_enter", "raw_tracepoint", P, N, P},
                      Expect{"attach_tracing", "tp_btf_sys_enter", "tp_btf", P, N, P},
                      Expect{"attach_tracing", "kprobe_named", "kprobe", F,
                             FailureCode::AttachTypeUnsupported, S},
                      Expect{"attach_tracing", "kprobe_placeholder", "kprobe", F,
                             FailureCode::AttachTypeUnsupported, S},
                      Expect{"attach_tracing", "kretprobe_placeholder", "kprobe", F,
                             FailureCode::AttachTypeUnsupported, S},
                      Expect{"attach_tracing", "kprobe_multi_getp", "kprobe_multi", F,
                             FailureCode::AttachTypeUnsupported, S},
                      Expect{"attach_tracing", "uprobe_default", "uprobe", P, N, P},
                      Expect{"attach_tracing", "uretprobe_short_lib", "uprobe", P, N, P},
                      Expect{"attach_tracing", "iter_task", "iter", P, N, P},
                      Expect{"attach_usdt", "usdt_default", "usdt", P, N, P},
                      Expect{"attach_network", "tc_ingress", "tc", P, N, P},
                      Expect{"attach_network", "tc_egress", "tc", P, N, P},
                      Expect{"attach_network", "xdp_pass", "xdp", P, N, P},
                      Expect{"attach_network", "socket_filter", "socket_filter", P, N, P},
                      Expect{"attach_network", "sk_lookup_pass", "sk_lookup", P, N, P},
                      Expect{"attach_network", "flow_dissector_pass", "flow_dissector", P, N, P},
                      Expect{"attach_network", "sk_skb_verdict", "sk_skb", P, N, P},
                      Expect{"attach_network", "sk_msg_verdict", "sk_msg", P, N, P},
                      Expect{"attach_network", "perf_event_clock", "perf_event", P, N, P},
                      Expect{"attach_cgroup", "cgroup_skb_ingress", "cgroup", P, N, P},
                      Expect{"attach_cgroup", "cgroup_skb_egress", "cgroup", P, N, P},
                      Expect{"attach_cgroup", "cgroup_sock_create", "cgroup", P, N, P},
                      Expect{"attach_cgroup", "cgroup_connect4", "cgroup", P, N, P},
                      Expect{"attach_cgroup", "cgroup_getsockopt", "cgroup", P, N, P},
                      Expect{"attach_cgroup", "cgroup_sysctl", "cgroup", P, N, P},
                      Expect{"attach_cgroup", "cgroup_dev", "cgroup", P, N, P},
                      Expect{"attach_cgroup", "sockops_established", "cgroup", P, N, P},
                      Expect{"attach_skip", "lwt_in_pass", "skip", S, N, S},
                      Expect{"attach_skip", "reuseport_pass", "skip", S, N, S},
                      Expect{"gadget_sections", "ig_perf_event", "perf_event", P, N, P},
                      Expect{"gadget_sections", "ig_classifier", "tc", P, N, P}));

class AttachCheck : public ::testing::Test {
protected:
    void SetUp() override {
        BPFLEET_REQUIRE(is_root(), "attaching BPF programs needs root");
        BPFLEET_REQUIRE(bpf_available(), "the kernel refuses BPF programs here");
    }
};

// The "done when": five kinds, each attached and fired.
TEST_F(AttachCheck, FiveKindsAllAttachAndFire) {
    auto run = run_agent({"check", "--object", test_object("five_kinds")});
    ASSERT_TRUE(run.report) << run.parse_error;
    EXPECT_EQ(run.exit_status, 0) << run.out;
    ASSERT_EQ(run.report->programs.size(), 5u);
    for (const auto& p : run.report->programs) {
        ASSERT_TRUE(p.attach && p.fire) << p.name;
        EXPECT_EQ(p.attach->verdict, Verdict::Pass) << p.name << ": " << p.attach->evidence;
        EXPECT_EQ(p.fire->fired, std::optional<bool>(true)) << p.name << ": " << p.fire->message;
    }
}

TEST_F(AttachCheck, LibxdpProgramsAttachAndFire) {
    const std::string path = "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o";
    BPFLEET_REQUIRE(std::filesystem::exists(path), "libxdp1 is not installed");
    for (const char* name : {"xdpfilt_alw_all.o", "xdpfilt_dny_udp.o", "xdpfilt_dny_all.o",
                             "xdpfilt_alw_ip.o", "xdp-dispatcher.o"}) {
        auto run =
            run_agent({"check", "--object", "/usr/lib/x86_64-linux-gnu/bpf/" + std::string(name)});
        ASSERT_TRUE(run.report) << name << ": " << run.parse_error;
        for (const auto& p : run.report->programs) {
            if (p.type != "xdp") {
                continue;
            }
            ASSERT_TRUE(p.attach && p.fire) << name;
            EXPECT_EQ(p.attach->verdict, Verdict::Pass) << name << " " << p.name;
            EXPECT_EQ(p.fire->fired, std::optional<bool>(true)) << name << " " << p.name;
        }
    }
}

TEST_F(AttachCheck, LoadOnlyAttachesNothing) {
    auto run = run_agent({"check", "--object", test_object("five_kinds"), "--load-only"});
    ASSERT_TRUE(run.report) << run.parse_error;
    EXPECT_EQ(run.exit_status, 0);
    for (const auto& p : run.report->programs) {
        EXPECT_EQ(p.load.verdict, Verdict::Pass);
        EXPECT_FALSE(p.attach) << "--load-only reports no attach stage";
        EXPECT_FALSE(p.fire);
    }
}

TEST_F(AttachCheck, NoFireAttachesButDoesNotTrigger) {
    auto run = run_agent({"check", "--object", test_object("five_kinds"), "--no-fire"});
    ASSERT_TRUE(run.report) << run.parse_error;
    for (const auto& p : run.report->programs) {
        ASSERT_TRUE(p.attach && p.fire);
        EXPECT_EQ(p.attach->verdict, Verdict::Pass) << p.name;
        EXPECT_EQ(p.fire->verdict, Verdict::Skip) << p.name;
        EXPECT_NE(p.fire->message.find("--no-fire"), std::string::npos);
    }
}

TEST_F(AttachCheck, AllProgramsFailingToAttachEachGetAVerdict) {
    auto run = run_agent({"check", "--object", test_object("kprobes_only")});
    ASSERT_TRUE(run.report) << run.parse_error;
    EXPECT_EQ(run.exit_status, 1);
    ASSERT_EQ(run.report->programs.size(), 2u);
    for (const auto& p : run.report->programs) {
        ASSERT_TRUE(p.attach);
        EXPECT_EQ(p.attach->verdict, Verdict::Fail) << p.name;
        EXPECT_NE(p.attach->code, FailureCode::None);
    }
}

// A program the verifier walks until its limit: the watchdog ends the check
// in time and still prints a verdict for it.
TEST_F(AttachCheck, WatchdogEndsALongCheckWithAVerdict) {
    const auto start = std::chrono::steady_clock::now();
    auto run = run_agent({"check", "--object", test_object("verifier_limit"), "--timeout", "1"});
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(run.report) << run.parse_error << run.err;
    EXPECT_LT(elapsed, std::chrono::seconds(10));
    ASSERT_EQ(run.report->programs.size(), 1u);
    const auto& load = run.report->programs[0].load;
    EXPECT_EQ(load.verdict, Verdict::Error);
    EXPECT_NE(load.message.find("timed out"), std::string::npos) << load.message;
    EXPECT_EQ(run.exit_status, 1);
}

TEST_F(AttachCheck, VerifierLimitIsResourceLimitGivenTime) {
    auto run = run_agent({"check", "--object", test_object("verifier_limit"), "--timeout", "120"});
    ASSERT_TRUE(run.report) << run.parse_error;
    const auto& load = run.report->programs.at(0).load;
    EXPECT_EQ(load.verdict, Verdict::Fail);
    EXPECT_EQ(load.code, FailureCode::ResourceLimit) << load.evidence;
}

} // namespace
} // namespace bpfleet::test
