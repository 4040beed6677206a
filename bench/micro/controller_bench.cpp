// Google Benchmark for the controller's hot paths (a benchmark, not a test:
// figures go to docs/benchmarks.md): the protocol's check reply of an object
// with 200 programs, encoded by the agent's side and framed and parsed by
// the controller's; a run's report assembled from 200 hosts × 50 programs
// and rendered as report.json and as the table.
//   build/ci/bench/micro/bpfleet_micro_bench [--benchmark_filter=REGEX]

#include "common/file.hpp"
#include "model/run_report.hpp"
#include "protocol/messages.hpp"
#include "protocol/protocol.hpp"
#include "report/run_report_builder.hpp"
#include "report/table.hpp"

#include <benchmark/benchmark.h>
#include <cstdio>
#include <string>

namespace bpfleet {
namespace {

// A check report as a real run gives it: every program passed its load,
// attach and fire, with a short verifier log and a libbpf message each.
CheckReport check_report(int programs) {
    CheckReport r;
    r.agent = AgentInfo{"0.1.0", "1.4.0", "x86_64"};
    r.kernel = KernelInfo{"6.1.0-28-amd64", "x86_64"};
    r.object.name = "probe.bpf.o";
    r.object.size = 123456;
    r.object.sha256 = std::string(64, 'a');
    r.object.license = "GPL";
    r.object.has_btf = true;
    for (int i = 0; i < programs; ++i) {
        ProgramResult p;
        p.name = "handle_event_" + std::to_string(i);
        p.section = "tracepoint/syscalls/sys_enter_openat";
        p.type = "tracepoint";
        p.load.verdict = Verdict::Pass;
        p.load.insns_processed = 1234;
        p.load.verification_time_us = 567;
        p.load.log = VerifierLog{"processed 1234 insns (limit 1000000) max_states_per_insn 2 "
                                 "total_states 90 peak_states 90 mark_read 12\n",
                                 96, false, 1};
        p.load.libbpf_messages = {"libbpf: prog '" + p.name + "': loaded"};
        StageResult attach;
        attach.verdict = Verdict::Pass;
        attach.strategy = "tracepoint";
        attach.target = "syscalls/sys_enter_openat";
        p.attach = attach;
        StageResult fire;
        fire.verdict = Verdict::Pass;
        fire.trigger = "openat(\"/dev/null\")";
        fire.fired = true;
        fire.run_count = 3;
        p.fire = fire;
        r.programs.push_back(std::move(p));
        ProgramFacts facts;
        facts.name = r.programs.back().name;
        facts.section = r.programs.back().section;
        facts.type = "tracepoint";
        facts.insns = 321;
        r.object.programs.push_back(std::move(facts));
    }
    return r;
}

void BM_EncodeCheckReply200(benchmark::State& state) {
    const protocol::CheckReply reply{1, check_report(200)};
    std::size_t bytes = 0;
    for (auto _ : state) {
        std::string line = protocol::encode(reply);
        bytes = line.size();
        benchmark::DoNotOptimize(line);
    }
    state.counters["bytes"] = static_cast<double>(bytes);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_EncodeCheckReply200)->Unit(benchmark::kMicrosecond);

// What the controller does with each reply: frame it (bounds, depth and
// value counts), parse the JSON, read it with the typed parser.
void BM_FrameAndParseCheckReply200(benchmark::State& state) {
    const std::string line = protocol::encode(protocol::CheckReply{1, check_report(200)});
    for (auto _ : state) {
        protocol::FrameReader reader(std::vector<std::string>{}); // as the controller reads
        if (!reader.feed(line)) {
            state.SkipWithError("the reply does not frame");
            break;
        }
        auto frame = reader.next();
        auto reply = protocol::parse_check_reply(frame->message);
        if (!reply) {
            state.SkipWithError(reply.error().message.c_str());
            break;
        }
        benchmark::DoNotOptimize(reply);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * line.size()));
}
BENCHMARK(BM_FrameAndParseCheckReply200)->Unit(benchmark::kMicrosecond);

HostResult host_result(int index, const CheckReport& report) {
    HostResult h;
    h.name = "host-" + std::to_string(index);
    h.address = "10.0." + std::to_string(index / 250) + "." + std::to_string(index % 250);
    h.port = 22;
    h.user = "root";
    h.transport = "ssh";
    ObjectCheck check;
    check.artifact = "probe.bpf.o";
    check.object = "probe.bpf.o";
    check.object_sha256 = std::string(64, 'a');
    check.report = report;
    h.checks.push_back(std::move(check));
    h.duration_ms = 812.5;
    return h;
}

RunReport run_report(int hosts, int programs) {
    const CheckReport report = check_report(programs);
    report::RunReportBuilder builder({"probe.bpf.o"}, "inventory.toml");
    std::vector<std::string> names;
    for (int i = 0; i < hosts; ++i) {
        names.push_back("host-" + std::to_string(i));
    }
    builder.select(names);
    // In the order hosts finish, not the order they are listed.
    for (int i = hosts - 1; i >= 0; --i) {
        builder.add(host_result(i, report));
    }
    return builder.finish("");
}

void BM_AssembleReport200x50(benchmark::State& state) {
    const CheckReport report = check_report(50);
    std::vector<HostResult> results;
    for (int i = 0; i < 200; ++i) {
        results.push_back(host_result(i, report));
    }
    for (auto _ : state) {
        state.PauseTiming();
        std::vector<HostResult> copy = results; // add() takes them by value
        state.ResumeTiming();
        report::RunReportBuilder builder({"probe.bpf.o"}, "inventory.toml");
        std::vector<std::string> names;
        for (int i = 0; i < 200; ++i) {
            names.push_back("host-" + std::to_string(i));
        }
        builder.select(std::move(names));
        for (auto it = copy.rbegin(); it != copy.rend(); ++it) {
            builder.add(std::move(*it));
        }
        RunReport run = builder.finish("");
        benchmark::DoNotOptimize(run.summary());
    }
}
BENCHMARK(BM_AssembleReport200x50)->Unit(benchmark::kMillisecond);

void BM_RenderReportJson200x50(benchmark::State& state) {
    const RunReport run = run_report(200, 50);
    std::size_t bytes = 0;
    for (auto _ : state) {
        std::string text = Json(run).dump(2);
        bytes = text.size();
        benchmark::DoNotOptimize(text);
    }
    state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderReportJson200x50)->Unit(benchmark::kMillisecond);

void BM_RenderTable200x50(benchmark::State& state) {
    const RunReport run = run_report(200, 50);
    const FilePtr sink = open_file("/dev/null", "w");
    if (!sink) {
        state.SkipWithError("cannot open /dev/null");
        return;
    }
    for (auto _ : state) {
        report::TableWriter table(report::TableKind::Programs, sink.get(), "report.json");
        auto written = table.write(run);
        benchmark::DoNotOptimize(written);
    }
}
BENCHMARK(BM_RenderTable200x50)->Unit(benchmark::kMillisecond);

} // namespace
} // namespace bpfleet

BENCHMARK_MAIN();
