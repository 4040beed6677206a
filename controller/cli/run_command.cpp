// bpfleet run -a ARTIFACT [-a ...] [-o DIR] ...: check every artifact on every
// selected host and write the reports (docs/cli.md). Without an inventory the
// fleet is this machine, through the local transport.

#include "bpf/fixups.hpp"
#include "cli/artifact_options.hpp"
#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/list_hosts.hpp"
#include "common/arch.hpp"
#include "common/sha256.hpp"
#include "fleet/runner.hpp"
#include "inventory/inventory.hpp"
#include "logging/log.hpp"
#include "model/report_diff.hpp"
#include "model/run_report.hpp"
#include "oci/resolve.hpp"
#include "protocol/protocol.hpp"
#include "report/expectations.hpp"
#include "report/json_report.hpp"
#include "report/run_outputs.hpp"
#include "report/run_recorder.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <spdlog/spdlog.h>
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
    std::string expect;
    std::string baseline;
    std::string known_hosts;
    std::string remote_dir;
    std::size_t forks = 100;
    unsigned retries = 2;
    double keepalive = 15;
    bool load_only = false;
    bool no_fire = false;
    bool probe_features = false;
    unsigned check_timeout = 120;
    std::string btf;
    bool force_btf = false;
    bool ignore_kernel_btf = false;
    bool quiet = false;
    std::string format = "table"; // run: what stdout gets (table, matrix, json)
    bool list_hosts = false;
    int verbose = 0; // -v, -vv
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

// --shard auto: the CI engine's own job index and count. GitLab's `parallel:
// N` sets CI_NODE_INDEX (1-based) and CI_NODE_TOTAL; other engines set the
// same two variables or pass I/N themselves (docs/ci.md).
Result<std::string> resolve_shard(const std::string& shard) {
    if (shard != "auto") {
        return shard;
    }
    const char* index = std::getenv("CI_NODE_INDEX");
    const char* total = std::getenv("CI_NODE_TOTAL");
    if (index == nullptr || total == nullptr || *index == '\0' || *total == '\0') {
        return make_error("usage",
                          "--shard auto reads CI_NODE_INDEX and CI_NODE_TOTAL (GitLab's parallel "
                          "jobs set them); they are not set: pass --shard I/N, or set them "
                          "(docs/ci.md)");
    }
    const std::string spec = std::string(index) + "/" + total;
    if (auto parsed = inventory::parse_shard(spec); !parsed) {
        return make_error("usage", "--shard auto: CI_NODE_INDEX/CI_NODE_TOTAL is '" + spec +
                                       "': " + parsed.error().message);
    }
    return spec;
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

// Everything a run needs before it connects anywhere. Building it finds all
// that can be wrong with the command line, the inventory or the artifacts
// (exit 2) before any host is touched.
struct PreparedRun {
    inventory::Inventory inventory;
    std::vector<inventory::InventoryHost> hosts;
    fleet::AgentCatalog agents;
    std::vector<fleet::ArtifactInput> artifacts; // the plan points here
    fleet::CheckPlan plan;
    std::optional<report::Expectations> expectations;
    std::optional<RunReport> baseline;
};

Result<std::unique_ptr<PreparedRun>> prepare(const RunOptions& options, bool probe_only) {
    auto run = std::make_unique<PreparedRun>();
    // Every input is checked whatever fails first, so that one run names all
    // that is wrong (exit 2); only checks that need a failed input are skipped.
    ErrorList errors;
    auto hosts = errors.take(select_fleet(options, run->inventory));
    if (hosts) {
        run->hosts = std::move(*hosts);
        auto identities = inventory::check_identity_files(run->inventory, run->hosts);
        for (auto& e : identities.errors) {
            errors.add(std::move(e));
        }
        for (const auto& warning : identities.warnings) {
            spdlog::warn("{}", warning);
        }
    }
    if (auto agent_paths = errors.take(parse_agent_options(options.agents))) {
        if (auto agents = errors.take(fleet::AgentCatalog::load(*agent_paths))) {
            run->agents = std::move(*agents);
        }
    }

    fleet::CheckPlan& plan = run->plan;
    plan.probe_features = probe_only || options.probe_features;
    plan.options.load_only = options.load_only;
    plan.options.fire = !options.no_fire;
    plan.options.timeout_seconds = options.check_timeout;
    plan.options.force_btf = options.force_btf;
    plan.options.ignore_kernel_btf = options.ignore_kernel_btf;
    if (!options.btf.empty()) {
        // Which file a host gets depends on its facts; that the source is
        // there at all is known now.
        std::error_code ec;
        if (!std::filesystem::exists(options.btf, ec)) {
            errors.add(Error{"usage", ENOENT, "--btf: no such file or folder", options.btf});
        }
        plan.external_btf = std::filesystem::absolute(options.btf).string();
    }
    if (!options.fixups.empty()) {
        // Checked here, once: a mistake is exit 2 naming file:line, not a
        // LOADER_CONTRACT row on every host.
        if (auto fixups = errors.take(bpf::load_fixup_rules(options.fixups))) {
            plan.options.fixups = std::move(*fixups);
        }
    }
    const auto resolve_options = to_resolve_options(options.artifact_options);
    for (const auto& spec : options.artifacts) {
        auto artifact = oci::resolve_artifact(spec, resolve_options);
        if (!artifact) {
            Error e = std::move(artifact).error();
            if (e.context.find(spec) == std::string::npos) {
                e.context = "-a " + spec + (e.context.empty() ? "" : ": " + e.context);
            }
            errors.add(std::move(e));
            continue;
        }
        run->artifacts.push_back({spec, std::move(*artifact)});
    }
    plan.artifacts = &run->artifacts;
    if (!options.expect.empty()) {
        // Checked here too: a typo is exit 2 naming FILE:LINE before any host is touched.
        run->expectations = errors.take(report::load_expectations(options.expect));
        if (run->expectations && hosts) {
            std::vector<report::HostView> views;
            for (const auto& h : run->inventory.hosts) {
                views.push_back({h.name, h.tags, h.groups, "", ""});
            }
            errors.check(report::check_rules_match(*run->expectations, views, options.artifacts));
        }
    }
    if (!options.baseline.empty()) {
        // Read and compared in kind now: a baseline of another check is exit 2, not a
        // diff of nothing after the run.
        run->baseline = errors.take(report::read_run_report(options.baseline));
        if (run->baseline) {
            RunReport shape;
            shape.run.identity.mode = probe_only ? "probe" : "run";
            shape.artifacts = options.artifacts;
            errors.check(diff_reports(*run->baseline, shape, options.baseline, "this run"));
        }
    }
    if (!errors.empty()) {
        return std::move(errors).combined();
    }
    return run;
}

// A file's sha256 ("" for no file): the inventory and the fixups file are
// part of a run's identity.
Result<std::string> file_sha256(const std::string& path) {
    if (path.empty()) {
        return std::string();
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return make_error("usage", "cannot read the file", errno, path);
    }
    const std::string text(std::istreambuf_iterator<char>(in), {});
    return Sha256::hex_of(std::string_view(text));
}

// What makes this run this run (the journal's header, report.json's `run`):
// the artifacts as resolved, the options that shape verdicts, the inventory.
Result<RunIdentity> identity_of(const RunOptions& options, const PreparedRun& run,
                                bool probe_only) {
    RunIdentity id;
    id.mode = probe_only ? "probe" : "run";
    for (const auto& input : run.artifacts) {
        ArtifactDigests a{input.spec, input.artifact.image_digest, {}};
        for (const auto& o : input.artifact.objects) {
            a.objects.push_back(
                {o.variant.empty() ? o.arch : o.arch + "/" + o.variant, o.name, o.object_sha256});
        }
        id.artifacts.push_back(std::move(a));
    }
    std::string fixups;
    TRY_ASSIGN(fixups, file_sha256(options.fixups));
    id.options = Json{{"load_only", options.load_only},
                      {"fire", !options.no_fire},
                      {"check_timeout_s", options.check_timeout},
                      {"fixups_sha256", fixups},
                      {"probe_features", probe_only || options.probe_features}};
    if (!options.btf.empty() || options.force_btf || options.ignore_kernel_btf) {
        id.options["btf"] = options.btf;
        id.options["force_btf"] = options.force_btf;
        id.options["ignore_kernel_btf"] = options.ignore_kernel_btf;
    }
    TRY_ASSIGN(id.inventory_sha256, file_sha256(options.inventory));
    return id;
}

fleet::FleetOptions fleet_options_of(const RunOptions& options) {
    fleet::FleetOptions out;
    out.forks = options.forks;
    out.retries = options.retries;
    out.remote_dir = options.remote_dir;
    out.known_hosts = options.known_hosts;
    out.keepalive = std::chrono::milliseconds(static_cast<long>(options.keepalive * 1000));
    return out;
}

// Wiring only: the hosts go to the runner, each finished host to the
// recorder (journal, hosts/NAME/), the finished report to the run's writers.
int run(RunOptions options, bool probe_only) {
    logging::init(logging::verbosity_of(options.quiet, options.verbose));
    if (auto shard = resolve_shard(options.shard); shard) {
        options.shard = *shard;
    } else {
        print_error(shard.error());
        return kExitUsage;
    }
    if (options.list_hosts) {
        inventory::Inventory inv;
        auto hosts = select_fleet(options, inv);
        if (!hosts) {
            print_error(hosts.error());
            return kExitUsage;
        }
        print_host_list(stdout, inv, *hosts, options.limit);
        return kExitOk;
    }
    report::RunReportBuilder builder(options.artifacts, options.inventory);
    auto prepared = prepare(options, probe_only);
    if (!prepared) {
        print_error(prepared.error());
        if (const std::size_t n = prepared.error().more.size() + 1; n > 1) {
            spdlog::error("{} problems with the command line and its inputs; no host was "
                          "contacted",
                          n);
        }
        return kExitUsage;
    }
    PreparedRun& run = **prepared;
    for (const auto& note : run.inventory.notes) {
        spdlog::debug("{}", note);
    }

    std::vector<std::string> order;
    for (const auto& h : run.hosts) {
        order.push_back(h.name);
    }
    builder.select(std::move(order));
    auto identity = identity_of(options, run, probe_only);
    if (!identity) {
        print_error(identity.error());
        return kExitUsage;
    }
    identity->id = new_run_id();
    auto recorder =
        report::RunRecorder::open({options.output, options.resume, *identity}, std::move(builder));
    if (!recorder) {
        print_error(recorder.error());
        return kExitUsage;
    }
    recorder->builder().set_run(
        {recorder->identity(), BPFLEET_VERSION, command_line(), options.shard});
    if (recorder->torn_line() > 0) {
        spdlog::warn("{}:{} was cut short by a kill: dropped, that host runs again", options.resume,
                     recorder->torn_line());
    }
    std::vector<inventory::InventoryHost> to_run;
    for (const auto& h : run.hosts) {
        if (!recorder->resumed(h.name)) {
            to_run.push_back(h);
        }
    }
    if (const std::size_t resumed = run.hosts.size() - to_run.size(); resumed > 0) {
        spdlog::info("{} host(s) already in the journal ({}), not run again", resumed,
                     recorder->journal_path().string());
    }

    fleet::Progress progress(to_run.size(), logging::verbosity(), isatty(STDERR_FILENO) == 1);
    const std::string cancelled =
        fleet::run_fleet(to_run, run.plan, run.agents, fleet_options_of(options), progress,
                         [&](fleet::HostOutcome& o) {
                             for (const auto& e : recorder->record(std::move(o.result),
                                                                   o.agent_stderr, o.cancelled)) {
                                 print_error(e);
                             }
                         });

    if (!cancelled.empty()) {
        // Hosts that did not finish are not in the journal: this runs exactly them.
        spdlog::warn("cancelled by {}; to finish this run:\n  {}", cancelled,
                     resume_command(recorder->journal_path().string()));
    }
    RunReport report = recorder->finish(cancelled);
    if (run.expectations) {
        report.expectations = report::apply_expectations(*run.expectations, report);
    }
    if (run.baseline) {
        auto diff = diff_reports(*run.baseline, report, options.baseline,
                                 (recorder->output_dir() / "report.json").string());
        if (diff) {
            report.baseline = std::move(*diff);
        } else {
            print_error(diff.error()); // e.g. no host in common: the report is still written
        }
    }
    const report::RunOutputs outputs{
        recorder->output(),
        probe_only
            ? report::TableKind::Facts
            : report::table_kind_from_string(options.format).value_or(report::TableKind::Programs),
        options.quiet ? nullptr : stdout};
    if (auto written = report::write_run_outputs(report, outputs); !written) {
        print_error(written.error());
        return kExitUsage;
    }
    std::fflush(stdout);
    return report::exit_code(report);
}

// The options `run` and `probe` share: the fleet, the output, the transport.
void add_fleet_options(CLI::App* cmd, RunOptions& o) {
    cmd->add_option("-i,--inventory", o.inventory, "Inventory TOML file (docs/inventory.md)");
    cmd->add_option("-l,--limit", o.limit,
                    "Hosts to run: names, globs, tag:T, group:G, @FILE (one name per line); "
                    "!TERM removes, &TERM intersects (comma list)");
    cmd->add_flag("--list-hosts", o.list_hosts,
                  "Print the selected hosts and their settings, then exit (nothing is contacted)");
    cmd->add_option("--shard", o.shard,
                    "Run slice I of N of the selected hosts (I/N), or auto: I and N from "
                    "CI_NODE_INDEX and CI_NODE_TOTAL (GitLab parallel jobs)");
    cmd->add_option("-o,--output", o.output, "Output directory")->capture_default_str();
    cmd->add_option("--resume", o.resume,
                    "Journal of an interrupted run of this same command: hosts already in it are "
                    "not run again (a journal of another run is refused)");
    cmd->add_option("-f,--forks", o.forks, "Hosts in flight at once")
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
                    "aarch64, armv7l); repeatable");
    cmd->add_flag("-q,--quiet", o.quiet, "Print nothing but errors");
    cmd->add_flag("-v,--verbose", o.verbose,
                  "Print every host's stages and retries; -vv also libssh's and libbpf's own "
                  "log (why a handshake failed)");
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
    cmd->add_option("--fixups", options->fixups,
                    "Fixups TOML, checked here, then applied to every check");
    cmd->add_option("--expect", options->expect,
                    "Expectations TOML (docs/expectations.md): known failures pass, surprises "
                    "fail, 'arch not expected here' is not a miss");
    cmd->add_option("--baseline", options->baseline,
                    "An earlier run's report.json: the report says what changed since, and a "
                    "regression (pass -> fail, error or miss) exits 1");
    cmd->add_flag("--load-only", options->load_only, "Load only: no attach, no trigger");
    cmd->add_flag("--no-fire", options->no_fire, "Attach but do not trigger");
    cmd->add_flag("--probe-features", options->probe_features,
                  "Record each host's BPF feature fingerprint too (as bpfleet probe does; about a "
                  "second per host)");
    cmd->add_option("--check-timeout", options->check_timeout,
                    "Watchdog for one object's check on a host, in seconds")
        ->capture_default_str()
        ->check(CLI::Range(1u, 86400u));
    cmd->add_option("--format", options->format,
                    "What stdout gets: table (identical results across hosts on one row), matrix "
                    "(hosts x programs) or json (the report)")
        ->capture_default_str()
        ->check(CLI::IsMember({"table", "matrix", "json"}));
    cmd->add_option("--btf", options->btf,
                    "External kernel BTF for hosts without /sys/kernel/btf/vmlinux: a .btf or "
                    ".btf.tar.xz file, a BTFHub tree or a btfgen folder (docs/btf.md); overrides "
                    "the inventory's external_btf");
    cmd->add_flag("--force-btf", options->force_btf,
                  "Use the external BTF even on hosts with kernel BTF");
    cmd->add_flag("--ignore-kernel-btf", options->ignore_kernel_btf,
                  "Check as on kernels without BTF (hides /sys/kernel/btf from each check)");
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
