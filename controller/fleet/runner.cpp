#include "fleet/runner.hpp"

#include "common/arch.hpp"
#include "fleet/exec_channel.hpp"
#include "fleet/shell_quote.hpp"
#include "fleet/ssh_auth.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <random>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

namespace bpfleet::fleet {
namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kRenderEvery{250};

// The plan for one host: its inventory's external_btf where the command line
// gave none.
CheckPlan host_plan(const CheckPlan& plan, const inventory::InventoryHost& h) {
    CheckPlan out = plan;
    if (out.external_btf.empty()) {
        out.external_btf = h.external_btf;
    }
    return out;
}

struct RunState {
    const CheckPlan& plan;
    const AgentCatalog& agents;
    const FleetOptions& options;
    Progress& progress;
    SshSettings ssh;
    bool cancelled = false;
    std::string signal_name;
    std::mt19937 random{std::random_device{}()};
};

// accept-new added `link`'s key: said as ssh says it, and kept in the report.
void note_added_key(const inventory::InventoryHost& h, const SshLink& link, HostResult& r) {
    if (const auto& key = link.added_host_key()) {
        spdlog::info("{}: permanently added '{}' ({} {}) to {}", h.name, key->host, key->type,
                     key->fingerprint, key->file);
        r.host_keys_added.push_back(*key);
    }
}

asio::awaitable<HostExpected<void>> attempt_ssh(const inventory::InventoryHost& h, RunState& run,
                                                HostOutcome& out) {
    auto executor = co_await asio::this_coro::executor;
    HostResult& r = out.result;
    const Deadline connect_deadline = Clock::now() + h.connect_timeout;
    std::shared_ptr<SshLink> via;
    for (const auto& hop : h.jump_chain) {
        run.progress.stage(h.name, "connect via " + hop.label);
        auto link = co_await SshLink::open(executor, hop, via, run.ssh, connect_deadline);
        if (!link) {
            HostFailure f = link.error();
            f.message = "jump host " + hop.label + ": " + f.message;
            co_return tl::unexpected(f);
        }
        via = *link;
        note_added_key(h, *via, r);
    }
    run.progress.stage(h.name, "connect");
    CO_TRY_ASSIGN(const auto target,
                  co_await SshLink::open(executor, h.endpoint(), via, run.ssh, connect_deadline));
    note_added_key(h, *target, r);
    target->enable_keepalive();

    const Deadline deadline = Clock::now() + h.command_timeout;
    run.progress.stage(h.name, "deploy");
    CO_TRY_ASSIGN(auto started, co_await start_agent(target, run.agents, run.options.remote_dir,
                                                     h.become, deadline));
    const Deployed& deployed = started.deployed;
    r.agent = AgentDeployment{deployed.arch, deployed.sha256, deployed.path, deployed.uploaded};
    if (deployed.uploaded) {
        run.progress.stage(h.name,
                           "uploaded the agent (" + std::to_string(deployed.bytes) + " bytes)");
    }
    run.progress.stage(h.name, "run");
    AgentStream& stream = *started.stream;
    const CheckPlan plan = host_plan(run.plan, h);
    auto talked = co_await converse(stream, plan, r, deadline, deployed.arch, deployed.uploaded);
    out.agent_stderr = stream.stderr_text();
    co_return talked;
}

asio::awaitable<HostExpected<void>> attempt_local(const inventory::InventoryHost& h, RunState& run,
                                                  HostOutcome& out) {
    auto executor = co_await asio::this_coro::executor;
    const std::string agent = run.agents.local_path();
    if (agent.empty()) {
        co_return host_failure(HostStatus::AgentError, "deploy",
                               "no bpfleet-agent for " + machine_arch() +
                                   " found (agents here: " + run.agents.available() +
                                   "): pass --agent PATH or set BPFLEET_AGENT");
    }
    std::vector<std::string> argv = {agent, "serve"};
    if (h.become) {
        argv.insert(argv.begin(), {"sudo", "-n", "--"});
    }
    run.progress.stage(h.name, "run");
    CO_TRY_ASSIGN(const auto stream, LocalAgentStream::start(executor, argv, &run.cancelled));
    if (const AgentBinary* a = run.agents.find(machine_arch())) {
        out.result.agent = AgentDeployment{a->arch, a->sha256, a->path, false};
    }
    const CheckPlan plan = host_plan(run.plan, h);
    auto talked = co_await converse(*stream, plan, out.result, Clock::now() + h.command_timeout,
                                    machine_arch());
    out.agent_stderr = stream->stderr_text();
    co_return talked;
}

HostResult identity(const inventory::InventoryHost& h) {
    HostResult r;
    r.name = h.name;
    r.address = h.address;
    r.transport = std::string(inventory::to_string(h.transport));
    r.tags = h.tags;
    r.groups = h.groups;
    r.vars = h.vars;
    if (h.transport == inventory::Transport::Ssh) {
        r.port = h.port;
        r.user = h.user;
        for (const auto& hop : h.jump_chain) {
            r.jump.push_back(hop.label);
        }
    }
    return r;
}

asio::awaitable<HostOutcome> run_host(const inventory::InventoryHost& h, RunState& run) {
    auto executor = co_await asio::this_coro::executor;
    HostOutcome out;
    out.result = identity(h);
    const auto started = Clock::now();
    for (int attempt = 1;; ++attempt) {
        HostResult& r = out.result;
        r.attempts = attempt;
        r.facts.reset();
        r.checks.clear();
        r.agent.reset();
        // (No co_await inside ?: — GCC 12 miscompiles it.)
        HostExpected<void> done;
        if (h.transport == inventory::Transport::Local) {
            done = co_await attempt_local(h, run, out);
        } else {
            done = co_await attempt_ssh(h, run, out);
        }
        if (done) {
            r.status = HostStatus::Ok;
            r.stage.clear();
            r.error.clear();
            break;
        }
        const HostFailure& f = done.error();
        if (f.retryable && static_cast<unsigned>(attempt) <= run.options.retries &&
            !run.cancelled) {
            // Exponential backoff with jitter, so that hosts dropped together
            // (an sshd's MaxStartups) don't come back together.
            auto base = std::chrono::milliseconds(500 << std::min(attempt - 1, 4));
            auto delay = base + std::chrono::milliseconds(run.random() %
                                                          static_cast<unsigned>(base.count()));
            run.progress.note(h.name, "attempt " + std::to_string(attempt) + " failed (" +
                                          f.message + "); retrying in " +
                                          std::to_string(delay.count()) + " ms");
            asio::steady_timer timer(executor);
            const Deadline until = Clock::now() + delay;
            while (!run.cancelled && Clock::now() < until) {
                timer.expires_at(std::min(until, Clock::now() + std::chrono::milliseconds(200)));
                co_await timer.async_wait(kTuple);
            }
            if (!run.cancelled) {
                continue;
            }
        }
        r.status = f.status;
        r.stage = f.stage;
        r.error = f.message;
        out.cancelled = f.cancelled || (run.cancelled && f.retryable);
        if (out.cancelled) {
            r.status = HostStatus::Skipped;
            r.error = "cancelled by " + run.signal_name + " (" + f.message + ")";
        }
        break;
    }
    out.result.duration_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    co_return out;
}

// Takes hosts off the shared queue until it is empty or the run is cancelled.
asio::awaitable<void> worker(const std::vector<inventory::InventoryHost>& hosts, std::size_t& next,
                             RunState& run, const std::function<void(HostOutcome&)>& on_done,
                             std::size_t& active) {
    while (next < hosts.size() && !run.cancelled) {
        const auto& h = hosts[next++];
        run.progress.started(h.name);
        HostOutcome out;
        try {
            out = co_await run_host(h, run);
        } catch (const std::exception& e) {
            // A bug, not a host's fault: the host still gets a result.
            out.result = identity(h);
            out.result.status = HostStatus::AgentError;
            out.result.stage = "run";
            out.result.error = std::string("internal error: ") + e.what();
        }
        run.progress.finished(out.result, out.cancelled);
        on_done(out);
    }
    --active;
}

void raise_fd_limit() {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

} // namespace

std::string run_fleet(const std::vector<inventory::InventoryHost>& hosts, const CheckPlan& plan,
                      const AgentCatalog& agents, const FleetOptions& options, Progress& progress,
                      const std::function<void(HostOutcome&)>& on_done) {
    raise_fd_limit();
    std::signal(SIGPIPE, SIG_IGN);
    asio::io_context context(1);
    RunState run{plan, agents, options, progress, {}, false, {}, {}};
    // Named here, not left to libssh: libssh's default follows the passwd
    // home while the default keys follow $HOME.
    run.ssh.known_hosts = options.known_hosts;
    if (const std::string dir = user_ssh_dir(); run.ssh.known_hosts.empty() && !dir.empty()) {
        run.ssh.known_hosts = dir + "/known_hosts";
    }
    run.ssh.keepalive = options.keepalive;
    run.ssh.cancelled = &run.cancelled;

    asio::signal_set signals(context, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int number) {
        if (ec) {
            return;
        }
        run.cancelled = true;
        run.signal_name = number == SIGINT ? "SIGINT" : "SIGTERM";
        // A second signal takes the default action (ends bpfleet at once, with
        // no report; the journal keeps every finished host).
        boost::system::error_code ignored;
        signals.remove(SIGINT, ignored);
        signals.remove(SIGTERM, ignored);
        progress.message(
            "cancelling the run (" + run.signal_name +
            "): hosts still running are reported as skipped; a second signal stops at once");
    });
    asio::steady_timer render(context);
    std::function<void()> tick = [&] {
        progress.render();
        render.expires_after(kRenderEvery);
        render.async_wait([&](const boost::system::error_code& ec) {
            if (!ec) {
                tick();
            }
        });
    };
    if (progress.live()) {
        tick();
    }

    std::size_t next = 0;
    std::size_t workers = std::max<std::size_t>(1, std::min(options.forks, hosts.size()));
    std::size_t active = workers;
    for (std::size_t i = 0; i < workers; ++i) {
        asio::co_spawn(context, worker(hosts, next, run, on_done, active), [&](std::exception_ptr) {
            if (active == 0) {
                signals.cancel();
                render.cancel();
            }
        });
    }
    context.run();
    progress.close();

    for (; next < hosts.size(); ++next) {
        HostOutcome out;
        out.result = identity(hosts[next]);
        out.result.status = HostStatus::Skipped;
        out.result.error = "not run: the run was cancelled by " + run.signal_name;
        out.cancelled = true;
        on_done(out);
    }
    return run.signal_name;
}

} // namespace bpfleet::fleet
