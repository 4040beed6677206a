#include "check_runner.hpp"

#include "bpf/attach.hpp"
#include "bpf/load_check.hpp"
#include "bpf/sandbox.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bpfleet::agent {
namespace {

constexpr std::size_t kMaxStreamBytes = 256u << 20;

void write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            _exit(3); // the supervisor is gone
        }
        done += static_cast<std::size_t>(n);
    }
}

void send(int fd, Json message) {
    write_all(fd, message.dump() + "\n");
}

// The disposable child: everything it creates dies with it.
[[noreturn]] void child_main(int fd, const ObjectBytes& bytes, const CheckRunOptions& options,
                             const bpf::ScratchCgroup* cgroup, const std::string& cgroup_error,
                             pid_t supervisor) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != supervisor) {
        _exit(5); // the supervisor died before the death signal was armed
    }
    bpf::AttachEnv env;
    env.host = bpf::detect_host_context();
    env.fire = options.fire;
    if (!options.load_only) {
        auto ns = bpf::enter_private_namespaces();
        if (!ns) {
            send(fd, Json{{"kind", "sandbox_error"}, {"message", ns.error().describe()}});
            _exit(4);
        }
        env.lo_ifindex = ns->lo_ifindex;
    }
    env.cgroup = cgroup;
    (void)cgroup_error;

    bpf::LoadCheckOptions load;
    load.log_cap = options.log_cap;
    load.rules = options.rules;
    load.on_object = [fd](const ObjectFacts& facts, const std::vector<Fixup>& fixups) {
        send(fd, Json{{"kind", "object"}, {"object", facts}, {"fixups", fixups}});
    };
    load.on_program = [fd](std::size_t index, const ProgramResult& result) {
        send(fd, Json{{"kind", "load"}, {"index", index}, {"program", result}});
    };
    auto result = bpf::check_object_load(bytes, options.name, load, env.host);
    if (result.error) {
        send(fd, Json{{"kind", "object_error"},
                      {"code", to_string(result.error->code)},
                      {"errno", result.error->errnum},
                      {"message", result.error->message}});
        _exit(0);
    }
    if (!options.load_only) {
        bpf::RunStats stats;
        env.stats_enabled = stats.enabled();
        env.stats_error = stats.error();
        for (std::size_t i = 0; i < result.programs.size(); ++i) {
            StageResult attach;
            StageResult fire;
            if (result.loaded[i]) {
                auto r = bpf::attach_and_fire(result.loaded[i]->program, env);
                attach = std::move(r.attach);
                fire = std::move(r.fire);
            } else {
                attach.verdict = Verdict::Skip;
                attach.message = "not loaded";
                fire.verdict = Verdict::Skip;
                fire.message = "not loaded";
            }
            send(fd, Json{{"kind", "attach"}, {"index", i}, {"attach", attach}, {"fire", fire}});
        }
    }
    send(fd, Json{{"kind", "end"}});
    _exit(0);
}

StageResult error_stage(const std::string& message) {
    StageResult s;
    s.verdict = Verdict::Error;
    s.message = message;
    return s;
}

// Applies one streamed message to the report; false on a malformed message.
bool apply(const Json& m, CheckReport& report, bool& ended) {
    const std::string kind = m.at("kind").get<std::string>();
    if (kind == "object") {
        report.object = m.at("object").get<ObjectFacts>();
        report.fixups = m.at("fixups").get<std::vector<Fixup>>();
        report.programs.clear();
        for (const auto& p : report.object.programs) {
            ProgramResult pr;
            pr.name = p.name;
            pr.section = p.section;
            pr.type = p.type;
            report.programs.push_back(std::move(pr));
        }
    } else if (kind == "load") {
        auto index = m.at("index").get<std::size_t>();
        if (index >= report.programs.size()) {
            return false;
        }
        report.programs[index] = m.at("program").get<ProgramResult>();
    } else if (kind == "attach") {
        auto index = m.at("index").get<std::size_t>();
        if (index >= report.programs.size()) {
            return false;
        }
        report.programs[index].attach = m.at("attach").get<StageResult>();
        report.programs[index].fire = m.at("fire").get<StageResult>();
    } else if (kind == "object_error") {
        ObjectError e;
        e.code = failure_code_from_string(m.at("code").get<std::string>())
                     .value_or(FailureCode::ObjectInvalid);
        e.errnum = m.at("errno").get<int>();
        e.message = m.at("message").get<std::string>();
        report.object_error = e;
        ended = true;
    } else if (kind == "sandbox_error") {
        report.object_error =
            ObjectError{FailureCode::Unknown, 0,
                        "cannot set up the sandbox: " + m.at("message").get<std::string>()};
        ended = true;
    } else if (kind == "end") {
        ended = true;
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

} // namespace

void run_check_supervised(const ObjectBytes& bytes, const CheckRunOptions& options,
                          CheckReport& report) {
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

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        report.object_error =
            ObjectError{FailureCode::Unknown, errno, "pipe: " + std::string(strerror(errno))};
        return;
    }
    std::fflush(nullptr);
    const pid_t supervisor = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        report.object_error =
            ObjectError{FailureCode::Unknown, errno, "fork: " + std::string(strerror(errno))};
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        child_main(fds[1], bytes, options, cgroup ? &*cgroup : nullptr, cgroup_error, supervisor);
    }
    close(fds[1]);

    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::chrono::seconds(options.timeout_seconds);
    std::string buffer;
    std::size_t total = 0;
    bool ended = false;
    bool timed_out = false;
    std::string protocol_error;
    while (!ended) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        int rc = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        if (rc <= 0) {
            continue;
        }
        char chunk[65536];
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; // the child exited (or died) without an end message
        }
        total += static_cast<std::size_t>(n);
        if (total > kMaxStreamBytes) {
            protocol_error = "the check produced more than 256 MiB of output";
            break;
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
        std::size_t nl;
        while (!ended && (nl = buffer.find('\n')) != std::string::npos) {
            std::string line = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            try {
                if (!apply(Json::parse(line), report, ended)) {
                    protocol_error = "a malformed message from the check process";
                }
            } catch (const std::exception& e) {
                protocol_error =
                    std::string("a malformed message from the check process: ") + e.what();
            }
        }
    }
    close(fds[0]);
    if (!ended) {
        kill(pid, SIGKILL);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) {
        fill_missing(
            report, "timed out after " + std::to_string(options.timeout_seconds) + " s (--timeout)",
            options.load_only);
    } else if (!ended) {
        std::string why = WIFSIGNALED(status) ? std::string("the check process died: ") +
                                                    strsignal(WTERMSIG(status))
                                              : "the check process exited early (status " +
                                                    std::to_string(WEXITSTATUS(status)) + ")";
        if (!protocol_error.empty()) {
            why = protocol_error;
        }
        fill_missing(report, why, options.load_only);
    }
    if (!ended && report.programs.empty() && !report.object_error) {
        report.object_error =
            ObjectError{FailureCode::Unknown, 0,
                        timed_out ? "timed out before the object was opened (--timeout)"
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
