#include "privileged/agent_runner.hpp"

#include <bpf/libbpf.h>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bpfleet::test {

AgentRun run_agent(const std::vector<std::string>& args, const std::string& stdin_data) {
    AgentRun run;
    // The agent may stop reading stdin early (an oversized object): no SIGPIPE here.
    signal(SIGPIPE, SIG_IGN);
    int in[2];
    int out[2];
    int err[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
        return run;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        std::vector<char*> argv;
        std::string agent = BPFLEET_AGENT_PATH;
        argv.push_back(agent.data());
        std::vector<std::string> copy = args;
        for (auto& a : copy) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        execv(agent.c_str(), argv.data());
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    std::size_t written = 0;
    if (stdin_data.empty()) {
        close(in[1]);
        in[1] = -1;
    }
    pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
    int open_outputs = 2;
    while (open_outputs > 0) {
        int nfds = in[1] >= 0 ? 3 : 2;
        if (poll(fds, nfds, 60000) <= 0) {
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP))) {
                char buf[65536];
                ssize_t n = read(fds[i].fd, buf, sizeof buf);
                if (n <= 0) {
                    close(fds[i].fd);
                    fds[i].fd = -1;
                    --open_outputs;
                } else {
                    (i == 0 ? run.out : run.err).append(buf, static_cast<std::size_t>(n));
                }
            }
        }
        if (in[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = write(in[1], stdin_data.data() + written,
                              std::min<std::size_t>(stdin_data.size() - written, 65536));
            if (n > 0) {
                written += static_cast<std::size_t>(n);
            }
            if (n <= 0 || written == stdin_data.size()) {
                close(in[1]);
                in[1] = -1;
                fds[2].fd = -1;
            }
        }
    }
    for (int i = 0; i < 2; ++i) {
        if (fds[i].fd >= 0) {
            close(fds[i].fd);
        }
    }
    if (in[1] >= 0) {
        close(in[1]);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    run.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    auto parsed = parse_check_report(run.out);
    if (parsed) {
        run.report = std::move(*parsed);
    } else {
        run.parse_error = parsed.error().message;
    }
    return run;
}

std::string test_object(const std::string& name) {
    return std::string(BPFLEET_TEST_BPF_DIR) + "/" + name + ".bpf.o";
}

bool is_root() {
    return geteuid() == 0;
}

bool bpf_available() {
    return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SOCKET_FILTER, nullptr) == 1;
}

const ProgramResult* find_program(const CheckReport& report, const std::string& name) {
    for (const auto& p : report.programs) {
        if (p.name == name) {
            return &p;
        }
    }
    return nullptr;
}

} // namespace bpfleet::test
