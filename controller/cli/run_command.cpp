// bpfleet run -a ARTIFACT [-a ...] [-o DIR] ...: check every artifact on every
// selected host and write the reports (docs/cli.md). Without an inventory the
// fleet is this machine, through the local transport.

#include "cli/artifact_options.hpp"
#include "cli/commands.hpp"
#include "common/arch.hpp"
#include "fleet/runner.hpp"
#include "inventory/inventory.hpp"
#include "model/run_report.hpp"
#include "oci/resolve.hpp"
#include "protocol/protocol.hpp"
#include "report/json_report.hpp"
#include "report/run_recorder.hpp"
#include "report/table.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <unistd.h>

namespace bpfleet::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct RunOptions {
    std::vector<std::string> artifacts;
    std::string inventory;
    std::string limit;
    std::string shard;
    std::string output = "bpfleet-out";
    std::string resume;
    std::vector<std::string> agents;
    std::string fixups;
    std::string known_hosts;
    std::string remote_dir;
    std::size_t forks = 100;
    unsigned retries = 2;
    double keepalive = 15;
    bool load_only = false;
    bool no_fire = false;
    bool probe_features = false;
    unsigned check_timeout = 120;
    bool quiet = false;
    bool verbose = false;
    ArtifactCliOptions artifact_options;
};

// --agent [ARCH=]PATH, repeatable; a bare PATH is this machine's architecture.
Result<std::map<std::string, std::string>>
parse_agent_options(const std::vector<std::string>& specs) {
    std::map<std::string, std::string> out;
    for (const auto& spec : specs) {
        auto eq = spec.find('=');
        std::string arch =
            eq == std::string::npos ? machine_arch() : agent_arch_name(spec.substr(0, eq));
        std::string path = eq == std::string::npos ? spec : spec.substr(eq + 1);
        if (arch.empty() || path.empty()) {
            return make_error("usage", "--agent takes PATH or ARCH=PATH", 0, spec);
        }
        out[arch] = path;
    }
    return out;
}

// The hosts of this run: the inventory (or this machine), --limit, --shard.
Result<std::vector<inventory::InventoryHost>> select_fleet(const RunOptions& options,
                                                           inventory::Inventory& inv) {
    if (options.inventory.empty()) {
        inv = inventory::local_inventory();
    } else {
        TRY_ASSIGN(inv, inventory::load_inventory(options.inventory));
    }
    std::vector<inventory::InventoryHost> hosts;
    TRY_ASSIGN(hosts, inventory::select_hosts(inv, options.limit));
    if (!options.shard.empty()) {
        inventory::ShardSpec spec;
        TRY_ASSIGN(spec, inventory::parse_shard(options.shard));
        TRY_ASSIGN(hosts, inventory::shard(std::move(hosts), spec.index, spec.count));
    }
    return hosts;
}

int run(const RunOptions& options, bool probe_only) {
    report::RunReportBuilder builder(options.artifacts, options.inventory);

    // Everything that can be wrong with the command line, the inventory or
    // the artifacts is found before connecting anywhere (exit 2).
    inventory::Inventory inv;
    auto selected = select_fleet(options, inv);
    if (!selected) {
        print_error(selected.error());
        return kExitUsage;
    }
    if (options.verbose) {
        for (const auto& note : inv.notes) {
            std::fprintf(stderr, "bpfleet: %s\n", note.c_str());
        }
    }
    auto agent_paths = parse_agent_options(options.agents);
    if (!agent_paths) {
        print_error(agent_paths.error());
        return kExitUsage;
    }
    auto agents = fleet::AgentCatalog::load(*agent_paths);
    if (!agents) {
        print_error(agents.error());
        return kExitUsage;
    }

    fleet::CheckPlan plan;
    plan.probe_features = probe_only || options.probe_features;
    plan.options.load_only = options.load_only;
    plan.options.fire = !options.no_fire;
    plan.options.timeout_seconds = options.check_timeout;
    if (!options.fixups.empty()) {
        std::ifstream in(options.fixups, std::ios::binary);
        std::error_code size_ec;
        auto size = fs::file_size(options.fixups, size_ec);
        if (!in || size_ec || size > (1u << 20)) {
            print_error(Error{"usage", errno, "cannot read the fixups file (or over 1 MiB)",
                              options.fixups});
            return kExitUsage;
        }
        plan.options.fixups_toml.resize(size);
        in.read(plan.options.fixups_toml.data(), static_cast<std::streamsize>(size));
    }

    std::vector<fleet::ArtifactInput> artifacts;
    auto resolve_options = to_resolve_options(options.artifact_options);
    for (const auto& spec : options.artifacts) {
        auto art = oci::resolve_artifact(spec, resolve_options);
        if (!art) {
            print_error(art.error());
            return kExitUsage;
        }
        artifacts.push_back({spec, std::move(*art)});
    }
    plan.artifacts = &artifacts;

    std::vector<std::string> order;
    for (const auto& h : *selected) {
        order.push_back(h.name);
    }
    builder.select(std::move(order));
    auto recorder = report::RunRecorder::open({options.output, options.resume}, std::move(builder));
    if (!recorder) {
        print_error(recorder.error());
        return kExitUsage;
    }

    std::vector<inventory::InventoryHost> to_run;
    for (const auto& h : *selected) {
        if (!recorder->resumed(h.name)) {
            to_run.push_back(h);
        }
    }
    if (const std::size_t resumed = selected->size() - to_run.size();
        resumed > 0 && !options.quiet) {
        std::fprintf(stderr, "bpfleet: %zu host(s) already in the journal (%s), not run again\n",
                     resumed, recorder->journal_path().c_str());
    }

    const fleet::Verbosity verbosity = options.quiet     ? fleet::Verbosity::Quiet
                                       : options.verbose ? fleet::Verbosity::Verbose
                                                         : fleet::Verbosity::Normal;
    fleet::Progress progress(to_run.size(), verbosity, isatty(STDERR_FILENO) == 1);
    fleet::FleetOptions fleet_options;
    fleet_options.forks = options.forks;
    fleet_options.retries = options.retries;
    fleet_options.remote_dir = options.remote_dir;
    fleet_options.known_hosts = options.known_hosts;
    fleet_options.keepalive =
        std::chrono::milliseconds(static_cast<long>(options.keepalive * 1000));
    const std::string cancelled = fleet::run_fleet(
        to_run, plan, *agents, fleet_options, progress, [&](fleet::HostOutcome& o) {
            if (auto recorded = recorder->record(std::move(o.result), o.agent_stderr, o.cancelled);
                !recorded) {
                print_error(recorded.error());
            }
        });

    const RunReport report = recorder->finish(cancelled);
    const fs::path report_path = recorder->output_dir() / "report.json";
    std::vector<std::unique_ptr<report::ReportWriter>> writers;
    writers.push_back(std::make_unique<report::JsonReportWriter>(report_path));
    if (!options.quiet) {
        writers.push_back(std::make_unique<report::TableWriter>(
            probe_only ? report::TableKind::Facts : report::TableKind::Programs, stdout,
            report_path.string()));
    }
    if (auto written = report::write_reports(report, writers); !written) {
        print_error(written.error());
        return kExitUsage;
    }
    std::fflush(stdout);
    return report::exit_code(report);
}

// The options `run` and `probe` share: the fleet, the output, the transport.
void add_fleet_options(CLI::App* cmd, RunOptions& o) {
    cmd->add_option("-i,--inventory", o.inventory, "Inventory TOML file (docs/inventory.md)");
    cmd->add_option("--limit", o.limit,
                    "Hosts to run: names, globs, tag:T, group:G, !TERM (comma list)");
    cmd->add_option("--shard", o.shard, "Run slice I of N of the selected hosts (I/N)");
    cmd->add_option("-o,--output", o.output, "Output directory")->capture_default_str();
    cmd->add_option("--resume", o.resume,
                    "Journal of an interrupted run: hosts already in it are not run again");
    cmd->add_option("--forks", o.forks, "Hosts in flight at once")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{100000}));
    cmd->add_option("--host-retries", o.retries,
                    "Retries after a transport failure (refused, reset, lost); never after a "
                    "program failure")
        ->capture_default_str()
        ->check(CLI::Range(0u, 20u));
    cmd->add_option(
           "--keepalive", o.keepalive,
           "SSH keepalive interval in seconds; a host silent for 3 intervals is lost (0: off)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 3600.0));
    cmd->add_option("--known-hosts", o.known_hosts,
                    "known_hosts file to check host keys against (and to add to under accept-new); "
                    "default ~/.ssh/known_hosts");
    cmd->add_option(
        "--remote-dir", o.remote_dir,
        "Agent cache folder on the hosts; default ~/.cache/bpfleet, or ${TMPDIR:-/tmp}/bpfleet-UID "
        "when $HOME is not writable");
    cmd->add_option("--agent", o.agents,
                    "Agent binary, as PATH (this machine's architecture) or ARCH=PATH (x86_64, "
                    "aarch64); repeatable");
    cmd->add_flag("-q,--quiet", o.quiet, "Print nothing but errors");
    cmd->add_flag("-v,--verbose", o.verbose, "Print every host's stages and retries");
}

} // namespace

Action register_run(CLI::App& app) {
    auto options = std::make_shared<RunOptions>();
    CLI::App* cmd = app.add_subcommand(
        "run", "Check artifacts on every selected host (this machine when no inventory is given)");
    cmd->add_option("-a,--artifact", options->artifacts,
                    "A .bpf.o, OCI layout, archive or registry reference (repeatable)")
        ->required();
    add_fleet_options(cmd, *options);
    cmd->add_option("--fixups", options->fixups, "Fixups TOML passed to every check");
    cmd->add_flag("--load-only", options->load_only, "Load only: no attach, no trigger");
    cmd->add_flag("--no-fire", options->no_fire, "Attach but do not trigger");
    cmd->add_flag("--probe-features", options->probe_features,
                  "Record each host's BPF feature fingerprint too (as bpfleet probe does; about a "
                  "second per host)");
    cmd->add_option("--check-timeout", options->check_timeout,
                    "Watchdog for one object's check on a host, in seconds")
        ->capture_default_str()
        ->check(CLI::Range(1u, 86400u));
    add_artifact_options(cmd, options->artifact_options, false);
    return [options] { return run(*options, false); };
}

Action register_probe(CLI::App& app) {
    auto options = std::make_shared<RunOptions>();
    CLI::App* cmd = app.add_subcommand(
        "probe",
        "Record every selected host's facts and BPF feature fingerprint (bpfleet.probe/v1)");
    add_fleet_options(cmd, *options);
    return [options] { return run(*options, true); };
}

} // namespace bpfleet::cli
