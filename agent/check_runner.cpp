// The supervisor and its disposable check process. The check process sends
// its results as typed events (protocol/check_stream.hpp) on its stdout, a
// pipe to the supervisor, which reads them with the same FrameReader as the
// wire and treats them as untrusted.

#include "check_runner.hpp"

#include "bpf/attach.hpp"
#include "bpf/external_btf.hpp"
#include "bpf/load_check.hpp"
#include "bpf/sandbox.hpp"
#include "common/subprocess.hpp"
#include "protocol/check_stream.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <poll.h>
#include <unistd.h>

namespace bpfleet::agent {
namespace {

// The whole stream of one check (a verifier log per program, each at most
// --log-cap).
constexpr std::size_t kMaxStreamBytes = 256u << 20;

// In the check process: one event on stdout, the pipe to the supervisor.
void send(const protocol::CheckEvent& event) {
    const std::string text = protocol::encode(event);
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = write(STDOUT_FILENO, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            _exit(3); // the supervisor is gone
        }
        done += static_cast<std::size_t>(n);
    }
}

// The disposable check process: everything it creates dies with it. Its
// exit status says how it ended (0: the stream ended on its own).
int check_process(const ObjectBytes& bytes, const CheckRunOptions& options,
                  const std::string& btf_custom_path, const bpf::ScratchCgroup* cgroup) {
    bpf::AttachEnv env;
    env.host = bpf::detect_host_context();
    env.fire = options.fire;
    if (!options.load_only) {
        auto ns = bpf::enter_private_namespaces();
        if (!ns) {
            send(protocol::SandboxFailed{ns.error().describe()});
            return 4;
        }
        env.lo_ifindex = ns->lo_ifindex;
    }
    if (options.ignore_kernel_btf) {
        auto hidden = options.load_only ? bpf::enter_private_mount_namespace() : Result<void>{};
        if (hidden) {
            hidden = bpf::hide_kernel_btf();
        }
        if (!hidden) {
            send(protocol::SandboxFailed{hidden.error().describe()});
            return 4;
        }
        env.host.kernel_btf = false;
    }
    env.host.external_btf = !btf_custom_path.empty();
    env.cgroup = cgroup;

    bpf::LoadCheckOptions load;
    load.log_cap = options.log_cap;
    load.rules = options.rules;
    load.btf_custom_path = btf_custom_path;
    load.on_object = [](const ObjectFacts& facts, const std::vector<Fixup>& fixups) {
        send(protocol::ObjectOpened{facts, fixups});
    };
    load.on_program = [](std::size_t index, const ProgramResult& result) {
        send(protocol::ProgramLoaded{index, result});
    };
    auto result = bpf::check_object_load(bytes, options.name, load, env.host);
    if (result.error) {
        send(protocol::ObjectFailed{*result.error});
        return 0;
    }
    if (!options.load_only) {
        bpf::RunStats stats;
        env.stats_enabled = stats.enabled();
        env.stats_error = stats.error();
        for (std::size_t i = 0; i < result.programs.size(); ++i) {
            protocol::ProgramAttached attached;
            attached.index = i;
            if (result.loaded[i]) {
                auto r = bpf::attach_and_fire(result.loaded[i]->program, env);
                attached.attach = std::move(r.attach);
                attached.fire = std::move(r.fire);
            } else {
                attached.attach.verdict = Verdict::Skip;
                attached.attach.message = "not loaded";
                attached.fire.verdict = Verdict::Skip;
                attached.fire.message = "not loaded";
            }
            send(attached);
        }
    }
    send(protocol::CheckEnded{});
    return 0;
}

StageResult error_stage(const std::string& message) {
    StageResult s;
    s.verdict = Verdict::Error;
    s.message = message;
    return s;
}

// Applies one event to the report; false when it names a program the object
// does not have.
bool apply(protocol::CheckEvent& event, CheckReport& report) {
    if (auto* opened = std::get_if<protocol::ObjectOpened>(&event)) {
        report.object = std::move(opened->object);
        report.fixups = std::move(opened->fixups);
        report.programs.clear();
        for (const auto& p : report.object.programs) {
            ProgramResult pr;
            pr.name = p.name;
            pr.section = p.section;
            pr.type = p.type;
            report.programs.push_back(std::move(pr));
        }
    } else if (auto* loaded = std::get_if<protocol::ProgramLoaded>(&event)) {
        if (loaded->index >= report.programs.size()) {
            return false;
        }
        report.programs[loaded->index] = std::move(loaded->program);
    } else if (auto* attached = std::get_if<protocol::ProgramAttached>(&event)) {
        if (attached->index >= report.programs.size()) {
            return false;
        }
        report.programs[attached->index].attach = std::move(attached->attach);
        report.programs[attached->index].fire = std::move(attached->fire);
    } else if (auto* failed = std::get_if<protocol::ObjectFailed>(&event)) {
        report.object_error = failed->error;
    } else if (auto* sandbox = std::get_if<protocol::SandboxFailed>(&event)) {
        report.object_error =
            ObjectError{FailureCode::Unknown, 0, "cannot set up the sandbox: " + sandbox->message};
    }
    return true;
}

// Every stage that never reported gets an error verdict saying why.
void fill_missing(CheckReport& report, const std::string& why, bool load_only) {
    for (auto& p : report.programs) {
        if (p.load.verdict == Verdict::Miss) {
            p.load = error_stage(why);
        }
        if (!load_only && !p.attach) {
            bool loaded = p.load.verdict == Verdict::Pass;
            p.attach = loaded ? error_stage(why) : StageResult{};
            p.fire = loaded ? error_stage(why) : StageResult{};
            if (!loaded) {
                p.attach->verdict = Verdict::Skip;
                p.attach->message = "not loaded";
                p.fire->verdict = Verdict::Skip;
                p.fire->message = "not loaded";
            }
        }
    }
}

// Stamps the check's wall time into the report on every way out of
// run_check_supervised: `serve` has no other clock around a check, and a
// report that says 0 ms hides a slow kernel.
class DurationStamp {
public:
    explicit DurationStamp(CheckReport& report) : m_report(report) {}
    DurationStamp(const DurationStamp&) = delete;
    DurationStamp& operator=(const DurationStamp&) = delete;
    ~DurationStamp() {
        m_report.duration_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - m_started)
                .count();
    }

private:
    CheckReport& m_report;
    std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
};

// Which kernel BTF the check uses, recorded in the report; the path for
// libbpf's btf_custom_path (empty: the kernel's own). An external file that
// is not usable BTF for this host stops the check: loading against it would
// only produce misleading verdicts.
Result<std::string> choose_btf(const CheckRunOptions& options, CheckReport& report) {
    const char* kKernelBtf = "/sys/kernel/btf/vmlinux";
    const bool kernel_btf = !options.ignore_kernel_btf && access(kKernelBtf, R_OK) == 0;
    if (!options.external_btf.empty() && (!kernel_btf || options.force_external_btf)) {
        TRY_ASSIGN(auto facts, bpf::check_external_btf(options.external_btf, report.kernel.arch));
        const std::string& name =
            options.external_btf_name.empty() ? options.external_btf : options.external_btf_name;
        report.btf = BtfUsed{"external", name, facts.sha256};
        return options.external_btf;
    }
    report.btf = kernel_btf ? BtfUsed{"kernel", kKernelBtf, ""} : BtfUsed{"none", "", ""};
    return std::string();
}

} // namespace

void run_check_supervised(const ObjectBytes& bytes, const CheckRunOptions& options,
                          CheckReport& report) {
    const DurationStamp stamp(report);
    auto btf_custom_path = choose_btf(options, report);
    if (!btf_custom_path) {
        report.object_error =
            ObjectError{FailureCode::MissingKernelBtf, btf_custom_path.error().errnum,
                        "unusable external BTF: " + btf_custom_path.error().message};
        return;
    }
    std::optional<bpf::ScratchCgroup> cgroup;
    std::optional<bpf::CgroupReaper> reaper;
    std::string cgroup_error;
    if (!options.load_only) {
        if (bpf::find_cgroup2_mount().empty()) {
            if (auto r = bpf::enter_private_mount_namespace(); !r) {
                cgroup_error = r.error().describe();
            }
        }
        if (cgroup_error.empty()) {
            if (auto c = bpf::ScratchCgroup::create()) {
                cgroup.emplace(std::move(*c));
                if (auto r = bpf::CgroupReaper::start(*cgroup)) {
                    reaper.emplace(std::move(*r));
                }
            } else {
                cgroup_error = c.error().describe();
            }
        }
    }

    auto child = Process::fork_call(
        [&] {
            return check_process(bytes, options, *btf_custom_path, cgroup ? &*cgroup : nullptr);
        },
        {.in = Stdio::null(), .out = Stdio::pipe(), .die_with_parent = true});
    if (!child) {
        report.object_error =
            ObjectError{FailureCode::Unknown, child.error().errnum,
                        "cannot start the check process: " + child.error().message};
        return;
    }
    const Fd stream = child->take_stdout();

    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::chrono::seconds(options.timeout_seconds);
    protocol::FrameReader reader = protocol::check_event_reader();
    std::size_t total = 0;
    bool ended = false;
    bool timed_out = false;
    bool hung_up = false;
    std::string protocol_error;
    while (!ended) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        // Only the hang-up of the controller's end is watched there (no
        // POLLIN): a request it pipelines stays unread for serve.
        std::array<pollfd, 2> p{pollfd{stream.get(), POLLIN, 0},
                                pollfd{options.hangup_fd, POLLRDHUP, 0}};
        const nfds_t watched = options.hangup_fd >= 0 ? 2 : 1;
        int rc = poll(p.data(), watched, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        if (rc <= 0) {
            continue;
        }
        if (watched == 2 && (p[1].revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0) {
            hung_up = true;
            break;
        }
        if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
            continue;
        }
        char chunk[65536];
        ssize_t n = read(stream.get(), chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; // the check process exited (or died) without an end event
        }
        total += static_cast<std::size_t>(n);
        if (total > kMaxStreamBytes) {
            protocol_error = "the check produced more than 256 MiB of output";
            break;
        }
        // A stream that cannot be framed is cut there: nothing after it is trusted.
        auto fed = reader.feed(std::string_view(chunk, static_cast<std::size_t>(n)));
        while (!ended) {
            auto frame = reader.next();
            if (!frame) {
                break;
            }
            auto event = protocol::parse_check_event(frame->message);
            if (!event) {
                protocol_error = "a malformed message from the check process: " +
                                 event.error().message.substr(0, 300);
                continue;
            }
            if (!apply(*event, report)) {
                protocol_error = "a malformed message from the check process";
            }
            ended = protocol::ends_stream(*event);
        }
        if (!fed && !ended) {
            protocol_error = "a malformed message from the check process: " + fed.error().message;
            break;
        }
    }
    if (!ended) {
        child->kill();
    }
    const ExitStatus status = child->wait();
    if (hung_up) {
        fill_missing(report, "the controller hung up: the check was stopped", options.load_only);
    } else if (timed_out) {
        fill_missing(
            report, "timed out after " + std::to_string(options.timeout_seconds) + " s (--timeout)",
            options.load_only);
    } else if (!ended) {
        std::string why =
            status.signaled()
                ? std::string("the check process died: ") + strsignal(status.signal())
                : "the check process exited early (status " + std::to_string(status.code()) + ")";
        if (!protocol_error.empty()) {
            why = protocol_error;
        }
        fill_missing(report, why, options.load_only);
    }
    if (!ended && report.programs.empty() && !report.object_error) {
        report.object_error =
            ObjectError{FailureCode::Unknown, 0,
                        timed_out ? "timed out before the object was opened (--timeout)"
                        : hung_up ? "the controller hung up before the object was opened"
                                  : "the check process ended before the object was opened"};
    }
    if (!cgroup_error.empty()) {
        for (auto& p : report.programs) {
            if (p.attach && p.attach->verdict == Verdict::Skip && p.attach->strategy == "cgroup") {
                p.attach->message += ": " + cgroup_error;
            }
        }
    }
    if (cgroup) {
        cgroup->remove();
    }
}

} // namespace bpfleet::agent
