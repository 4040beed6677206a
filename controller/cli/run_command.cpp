// bpfleet run -a ARTIFACT [-a ...] [-o DIR] ...: check every artifact on every
// selected host and write the reports (docs/cli.md). Without an inventory the
// fleet is this machine, through the local transport.

#include "cli/artifact_options.hpp"
#include "cli/commands.hpp"
#include "common/sha256.hpp"
#include "fleet/journal.hpp"
#include "fleet/runner.hpp"
#include "inventory/inventory.hpp"
#include "model/run_report.hpp"
#include "oci/resolve.hpp"
#include "protocol/protocol.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
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

std::string now_rfc3339() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

// --agent [ARCH=]PATH, repeatable; a bare PATH is this machine's architecture.
Result<std::map<std::string, std::string>>
parse_agent_options(const std::vector<std::string>& specs) {
    std::map<std::string, std::string> out;
    for (const auto& spec : specs) {
        auto eq = spec.find('=');
        std::string arch = eq == std::string::npos ? fleet::local_arch()
                                                   : fleet::normalize_arch(spec.substr(0, eq));
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

// A name from a host's answer (an object path, a program name) as one safe
// file name: only [A-Za-z0-9._-], '/' and anything else become '_', and no
// leading dot (no "..", no hidden files).
std::string file_name_part(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (char ch : name) {
        const bool safe = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                          (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        out += safe ? ch : '_';
    }
    if (out.empty() || out.front() == '.') {
        out.insert(out.begin(), '_');
    }
    return out.substr(0, 200);
}

// hosts/<name>/: facts, agent stderr and every full verifier log.
void write_host_files(const fs::path& dir, const HostResult& host,
                      const std::string& agent_stderr) {
    std::error_code ec;
    fs::create_directories(dir / "logs", ec);
    std::ofstream(dir / "facts.json") << host.facts.dump(2) << "\n";
    std::ofstream(dir / "agent-stderr.txt") << agent_stderr;
    for (const auto& c : host.checks) {
        for (const auto& p : c.report.programs) {
            if (p.load.log && !p.load.log->text.empty()) {
                std::ofstream(dir / "logs" /
                              (file_name_part(c.object) + "." + file_name_part(p.name) + ".log"))
                    << p.load.log->text;
            }
        }
    }
}

// Left-aligned in `w` columns, and never glued to the next column.
std::string pad(std::string s, std::size_t w) {
    s.append(s.size() < w ? w - s.size() : 1, ' ');
    return s;
}

void print_table(const RunReport& report) {
    std::printf("%s%s%s%s%s%s%s%s\n", pad("HOST", 14).c_str(), pad("OBJECT", 22).c_str(),
                pad("PROGRAM", 24).c_str(), pad("LOAD", 6).c_str(), pad("ATTACH", 8).c_str(),
                pad("FIRED", 7).c_str(), pad("CODE", 26).c_str(), "DETAIL");
    for (const auto& h : report.hosts) {
        if (h.status != HostStatus::Ok) {
            std::printf("%s%s %s (%s): %s\n", pad(h.name, 14).c_str(), "host",
                        std::string(to_string(h.status)).c_str(), h.stage.c_str(), h.error.c_str());
            continue;
        }
        for (const auto& c : h.checks) {
            if (c.report.object_error) {
                std::printf("%s%s%s\n", pad(h.name, 14).c_str(), pad(c.object, 22).c_str(),
                            c.report.object_error->message.c_str());
            }
            for (const auto& p : c.report.programs) {
                const StageResult* why = &p.load;
                if (p.load.verdict == Verdict::Pass && p.attach &&
                    p.attach->verdict == Verdict::Fail) {
                    why = &*p.attach;
                } else if (p.load.verdict == Verdict::Pass && p.fire &&
                           p.fire->verdict == Verdict::Fail) {
                    why = &*p.fire;
                }
                std::string fired = "-";
                if (p.fire && p.fire->fired) {
                    fired = *p.fire->fired ? "yes" : "no";
                } else if (p.fire) {
                    fired = std::string(to_string(p.fire->verdict));
                }
                std::string detail = why->code == FailureCode::None ? "" : why->evidence;
                if (why->verdict == Verdict::Error) {
                    detail = why->message;
                }
                if (detail.size() > 80) {
                    detail = detail.substr(0, 77) + "...";
                }
                std::printf(
                    "%s%s%s%s%s%s%s%s\n", pad(h.name, 14).c_str(), pad(c.object, 22).c_str(),
                    pad(p.name, 24).c_str(), pad(std::string(to_string(p.load.verdict)), 6).c_str(),
                    pad(p.attach ? std::string(to_string(p.attach->verdict)) : "-", 8).c_str(),
                    pad(fired, 7).c_str(),
                    pad(why->code == FailureCode::None ? "-" : std::string(to_string(why->code)),
                        26)
                        .c_str(),
                    detail.c_str());
            }
        }
    }
    auto s = report.summary();
    std::printf("\n%d host(s): %d ok, %d without answer; %d program(s): %d pass, %d fail, "
                "%d skip, %d error\n",
                s.hosts, s.hosts_ok, s.hosts_unanswered, s.programs, s.pass, s.fail, s.skip,
                s.error);
}

void print_facts_table(const RunReport& report) {
    std::printf("%s%s%s%s%s%s\n", pad("HOST", 14).c_str(), pad("ARCH", 9).c_str(),
                pad("KERNEL", 26).c_str(), pad("OS", 30).c_str(), pad("BTF", 5).c_str(), "STATUS");
    for (const auto& h : report.hosts) {
        const Json& f = h.facts;
        auto text = [](const Json& j, std::initializer_list<const char*> path) {
            const Json* at = &j;
            for (const char* key : path) {
                if (!at->is_object() || !at->contains(key)) {
                    return std::string("-");
                }
                at = &(*at)[key];
            }
            return at->is_string()    ? at->get<std::string>()
                   : at->is_boolean() ? (at->get<bool>() ? "yes" : "no")
                                      : "-";
        };
        std::string status = h.status == HostStatus::Ok ? "ok"
                                                        : std::string(to_string(h.status)) + " (" +
                                                              h.stage + "): " + h.error;
        std::printf("%s%s%s%s%s%s\n", pad(h.name, 14).c_str(), pad(text(f, {"arch"}), 9).c_str(),
                    pad(text(f, {"kernel", "release"}), 26).c_str(),
                    pad(text(f, {"os", "pretty_name"}), 30).c_str(),
                    pad(text(f, {"btf", "vmlinux"}), 5).c_str(), status.c_str());
    }
    auto s = report.summary();
    std::printf("\n%d host(s): %d ok, %d without answer\n", s.hosts, s.hosts_ok,
                s.hosts_unanswered);
}

int run(const RunOptions& options, bool probe_only) {
    const auto started = std::chrono::steady_clock::now();
    RunReport report;
    report.started = now_rfc3339();
    report.artifacts = options.artifacts;
    report.inventory = options.inventory;

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

    const fs::path out = options.output;
    std::error_code ec;
    fs::create_directories(out / "hosts", ec);
    if (ec) {
        print_error(Error{"io", ec.value(), "cannot create the output directory: " + ec.message(),
                          out.string()});
        return kExitUsage;
    }
    const fs::path journal_path =
        options.resume.empty() ? out / "journal.jsonl" : fs::path(options.resume);
    std::map<std::string, HostResult> done;
    if (!options.resume.empty()) {
        auto previous = fleet::read_journal(journal_path);
        if (!previous) {
            print_error(previous.error());
            return kExitUsage;
        }
        done = std::move(*previous);
    } else {
        fs::remove(journal_path, ec);
    }
    auto journal = fleet::Journal::open(journal_path);
    if (!journal) {
        print_error(journal.error());
        return kExitUsage;
    }

    std::vector<inventory::InventoryHost> to_run;
    std::size_t resumed = 0;
    for (const auto& h : *selected) {
        if (done.count(h.name)) {
            ++resumed;
        } else {
            to_run.push_back(h);
        }
    }
    if (resumed > 0 && !options.quiet) {
        std::fprintf(stderr, "bpfleet: %zu host(s) already in the journal (%s), not run again\n",
                     resumed, journal_path.c_str());
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
    bool journal_failed = false;
    std::map<std::string, HostResult> results;
    report.cancelled = fleet::run_fleet(
        to_run, plan, *agents, fleet_options, progress, [&](fleet::HostOutcome& o) {
            if (!o.cancelled) {
                if (auto appended = journal->append(o.result); !appended && !journal_failed) {
                    journal_failed = true;
                    print_error(appended.error());
                }
                write_host_files(out / "hosts" / o.result.name, o.result, o.agent_stderr);
            }
            results[o.result.name] = std::move(o.result);
        });

    for (const auto& h : *selected) {
        if (auto it = done.find(h.name); it != done.end()) {
            report.hosts.push_back(std::move(it->second));
        } else if (auto r = results.find(h.name); r != results.end()) {
            report.hosts.push_back(std::move(r->second));
        }
    }
    report.finished = now_rfc3339();
    report.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    if (auto written = fleet::write_file_atomic(out / "report.json", Json(report).dump(2) + "\n");
        !written) {
        print_error(written.error());
        return kExitUsage;
    }
    if (!options.quiet) {
        if (probe_only) {
            print_facts_table(report);
        } else {
            print_table(report);
        }
        std::printf("report: %s\n", (out / "report.json").c_str());
    }
    std::fflush(stdout);
    if (report.cancelled == "SIGINT") {
        return 130;
    }
    if (report.cancelled == "SIGTERM") {
        return 143;
    }
    return report.exit_status();
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
