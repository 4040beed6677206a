// bpfleet run -a ARTIFACT [-a ...] [-o DIR] ...: check every artifact on every
// selected host and write the reports (docs/cli.md). Without an inventory the
// fleet is this machine, through the local transport.

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "cli/artifact_options.hpp"
#include "cli/commands.hpp"
#include "common/sha256.hpp"
#include "fleet/journal.hpp"
#include "fleet/local_agent.hpp"
#include "model/run_report.hpp"
#include "oci/resolve.hpp"
#include "protocol/protocol.hpp"

namespace bpfleet::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct RunOptions {
    std::vector<std::string> artifacts;
    std::string inventory;
    std::string output = "bpfleet-out";
    std::string resume;
    std::string agent;
    std::string fixups;
    bool load_only = false;
    bool no_fire = false;
    unsigned check_timeout = 120;
    bool quiet = false;
    ArtifactCliOptions artifact_options;
};

std::string now_rfc3339() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

// The agent for the local transport: --agent, $BPFLEET_AGENT, next to this
// binary, or the build tree's agent/ beside controller/.
std::string find_local_agent(const std::string& explicit_path) {
    if (!explicit_path.empty()) {
        return explicit_path;
    }
    if (const char* env = std::getenv("BPFLEET_AGENT"); env && *env) {
        return env;
    }
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    for (const fs::path& candidate :
         {self.parent_path() / "bpfleet-agent", self.parent_path().parent_path() / "agent" / "bpfleet-agent"}) {
        if (access(candidate.c_str(), X_OK) == 0) {
            return candidate.string();
        }
    }
    return "bpfleet-agent";
}

struct Resolved {
    std::string spec;
    oci::ResolvedArtifact artifact;
};

void fail_host(HostResult& host, HostStatus status, std::string stage, const Error& e) {
    host.status = status;
    host.stage = std::move(stage);
    host.error = e.message;
}

HostStatus status_for(const Error& e) {
    return e.code == "timeout" ? HostStatus::Timeout : HostStatus::AgentError;
}

// One host through the local transport.
HostResult run_local_host(const RunOptions& options, const std::vector<Resolved>& artifacts,
                          const protocol::CheckOptions& check_options, std::string& agent_stderr) {
    HostResult host;
    host.name = "localhost";
    host.address = "localhost";
    host.transport = "local";
    const auto started = std::chrono::steady_clock::now();
    auto finish = [&] {
        host.duration_ms = std::chrono::duration<double, std::milli>(
                               std::chrono::steady_clock::now() - started)
                               .count();
        return host;
    };
    auto agent = fleet::LocalAgent::start(find_local_agent(options.agent));
    if (!agent) {
        fail_host(host, HostStatus::AgentError, "deploy", agent.error());
        return finish();
    }
    auto hello = agent->receive(10s);
    if (!hello || hello->message.value("type", "") != "hello" ||
        hello->message.value("protocol", 0) != protocol::kVersion) {
        fail_host(host, hello ? HostStatus::AgentError : status_for(hello.error()), "run",
                  hello ? Error{"agent_error", 0, "the agent did not say hello with protocol 1", ""}
                        : hello.error());
        agent_stderr = agent->stderr_text();
        return finish();
    }
    const std::string machine = hello->message["kernel"].value("arch", std::string());
    if (auto sent = agent->send(protocol::encode(Json{{"type", "probe"}}), 10s); !sent) {
        fail_host(host, status_for(sent.error()), "run", sent.error());
        return finish();
    }
    auto probe = agent->receive(60s);
    if (!probe || probe->message.value("type", "") != "probe") {
        fail_host(host, probe ? HostStatus::AgentError : status_for(probe.error()), "run",
                  probe ? Error{"agent_error", 0, "no probe reply", ""} : probe.error());
        agent_stderr = agent->stderr_text();
        return finish();
    }
    host.facts = probe->message.value("facts", Json::object());

    std::uint64_t id = 0;
    bool any_object = false;
    std::string unsupported;
    for (const auto& r : artifacts) {
        auto objects = r.artifact.objects_for_machine(machine);
        if (!objects) {
            unsupported += (unsupported.empty() ? "" : "; ") + objects.error().message;
            continue;
        }
        for (const oci::ResolvedObject* o : *objects) {
            any_object = true;
            ObjectCheck check;
            check.artifact = r.spec;
            check.object = o->name;
            check.arch = o->arch;
            check.image_digest = r.artifact.image_digest;
            check.manifest_digest = o->manifest_digest;
            check.object_sha256 = o->object_sha256;
            std::string request =
                protocol::encode(protocol::check_request(++id, o->name, o->bytes->size(),
                                                         o->object_sha256, check_options));
            request.append(reinterpret_cast<const char*>(o->bytes->data()), o->bytes->size());
            if (auto sent = agent->send(request, 60s); !sent) {
                fail_host(host, status_for(sent.error()), "run", sent.error());
                agent_stderr = agent->stderr_text();
                return finish();
            }
            auto reply = agent->receive(std::chrono::seconds(check_options.timeout_seconds + 60));
            if (!reply) {
                fail_host(host, status_for(reply.error()), "run", reply.error());
                agent_stderr = agent->stderr_text();
                return finish();
            }
            try {
                if (reply->message.at("type").get<std::string>() != "check" ||
                    reply->message.at("id").get<std::uint64_t>() != id) {
                    throw std::invalid_argument("unexpected reply '" + reply->message.dump().substr(0, 200) + "'");
                }
                check.report = reply->message.at("report").get<CheckReport>();
            } catch (const std::exception& e) {
                fail_host(host, HostStatus::AgentError, "run",
                          Error{"agent_error", 0, std::string("invalid check reply: ") + e.what(), ""});
                agent_stderr = agent->stderr_text();
                return finish();
            }
            host.checks.push_back(std::move(check));
        }
    }
    (void)agent->send(protocol::encode(Json{{"type", "bye"}}), 5s);
    (void)agent->receive(5s);
    agent_stderr = agent->stderr_text();
    if (!any_object) {
        host.status = HostStatus::UnsupportedArch;
        host.stage = "run";
        host.error = unsupported;
    }
    return finish();
}

// hosts/<name>/: facts, agent stderr and every full verifier log.
void write_host_files(const fs::path& dir, const HostResult& host, const std::string& agent_stderr) {
    std::error_code ec;
    fs::create_directories(dir / "logs", ec);
    std::ofstream(dir / "facts.json") << host.facts.dump(2) << "\n";
    std::ofstream(dir / "agent-stderr.txt") << agent_stderr;
    for (const auto& c : host.checks) {
        for (const auto& p : c.report.programs) {
            if (p.load.log && !p.load.log->text.empty()) {
                std::ofstream(dir / "logs" / (c.object + "." + p.name + ".log")) << p.load.log->text;
            }
        }
    }
}

std::string pad(std::string s, std::size_t w) {
    if (s.size() < w) {
        s.append(w - s.size(), ' ');
    }
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
                if (p.load.verdict == Verdict::Pass && p.attach && p.attach->verdict == Verdict::Fail) {
                    why = &*p.attach;
                } else if (p.load.verdict == Verdict::Pass && p.fire && p.fire->verdict == Verdict::Fail) {
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
                std::printf("%s%s%s%s%s%s%s%s\n", pad(h.name, 14).c_str(), pad(c.object, 22).c_str(),
                            pad(p.name, 24).c_str(),
                            pad(std::string(to_string(p.load.verdict)), 6).c_str(),
                            pad(p.attach ? std::string(to_string(p.attach->verdict)) : "-", 8).c_str(),
                            pad(fired, 7).c_str(),
                            pad(why->code == FailureCode::None ? "-" : std::string(to_string(why->code)), 26).c_str(),
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

int run(const RunOptions& options) {
    if (!options.inventory.empty()) {
        print_error(Error{"usage",
                          0,
                          "SSH fleets (-i) are not available in this build yet; without -i "
                          "bpfleet runs on this machine",
                          options.inventory});
        return kExitUsage;
    }
    const auto started = std::chrono::steady_clock::now();
    RunReport report;
    report.started = now_rfc3339();
    report.artifacts = options.artifacts;

    protocol::CheckOptions check_options;
    check_options.load_only = options.load_only;
    check_options.fire = !options.no_fire;
    check_options.timeout_seconds = options.check_timeout;
    if (!options.fixups.empty()) {
        std::ifstream in(options.fixups, std::ios::binary);
        std::error_code size_ec;
        auto size = fs::file_size(options.fixups, size_ec);
        if (!in || size_ec || size > (1u << 20)) {
            print_error(Error{"usage", errno, "cannot read the fixups file (or over 1 MiB)",
                              options.fixups});
            return kExitUsage;
        }
        check_options.fixups_toml.resize(size);
        in.read(check_options.fixups_toml.data(), static_cast<std::streamsize>(size));
    }

    std::vector<Resolved> artifacts;
    auto resolve_options = to_resolve_options(options.artifact_options);
    for (const auto& spec : options.artifacts) {
        auto art = oci::resolve_artifact(spec, resolve_options);
        if (!art) {
            print_error(art.error());
            return kExitUsage;
        }
        artifacts.push_back({spec, std::move(*art)});
    }

    const fs::path out = options.output;
    std::error_code ec;
    fs::create_directories(out / "hosts", ec);
    if (ec) {
        print_error(Error{"io", ec.value(), "cannot create the output directory: " + ec.message(),
                          out.string()});
        return kExitUsage;
    }
    const fs::path journal_path = options.resume.empty() ? out / "journal.jsonl" : fs::path(options.resume);
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

    if (auto it = done.find("localhost"); it != done.end()) {
        if (!options.quiet) {
            std::fprintf(stderr, "bpfleet: localhost: already in the journal, not run again\n");
        }
        report.hosts.push_back(it->second);
    } else {
        std::string agent_stderr;
        HostResult host = run_local_host(options, artifacts, check_options, agent_stderr);
        if (auto appended = journal->append(host); !appended) {
            print_error(appended.error());
        }
        write_host_files(out / "hosts" / host.name, host, agent_stderr);
        report.hosts.push_back(std::move(host));
    }

    report.finished = now_rfc3339();
    report.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    if (auto written = fleet::write_file_atomic(out / "report.json", Json(report).dump(2) + "\n");
        !written) {
        print_error(written.error());
        return kExitUsage;
    }
    if (!options.quiet) {
        print_table(report);
        std::printf("report: %s\n", (out / "report.json").c_str());
    }
    return report.exit_status();
}

} // namespace

Action register_run(CLI::App& app) {
    auto options = std::make_shared<RunOptions>();
    CLI::App* cmd = app.add_subcommand(
        "run", "Check artifacts on every selected host (this machine when no inventory is given)");
    cmd->add_option("-a,--artifact", options->artifacts,
                    "A .bpf.o, OCI layout, archive or registry reference (repeatable)")
        ->required();
    cmd->add_option("-i,--inventory", options->inventory, "Inventory TOML file (SSH fleets)");
    cmd->add_option("-o,--output", options->output, "Output directory")->capture_default_str();
    cmd->add_option("--resume", options->resume,
                    "Journal of an interrupted run: hosts already in it are not run again");
    cmd->add_option("--agent", options->agent, "bpfleet-agent binary for the local transport");
    cmd->add_option("--fixups", options->fixups, "Fixups TOML passed to every check");
    cmd->add_flag("--load-only", options->load_only, "Load only: no attach, no trigger");
    cmd->add_flag("--no-fire", options->no_fire, "Attach but do not trigger");
    cmd->add_option("--check-timeout", options->check_timeout,
                    "Watchdog for one object's check on a host, in seconds")
        ->capture_default_str()
        ->check(CLI::Range(1u, 86400u));
    cmd->add_flag("-q,--quiet", options->quiet, "Print nothing but errors");
    add_artifact_options(cmd, options->artifact_options, false);
    return [options] { return run(*options); };
}

} // namespace bpfleet::cli
