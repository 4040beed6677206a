#include "fleet/local_agent.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bpfleet::fleet {
namespace {

constexpr std::size_t kMaxStderr = 64 << 10;

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

} // namespace

Result<LocalAgent> LocalAgent::start(const std::string& agent_path) {
    if (access(agent_path.c_str(), X_OK) != 0) {
        return make_error("agent_error", "no executable agent at " + agent_path, errno);
    }
    int in[2];
    int out[2];
    int err[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
        return make_error("agent_error", std::string("pipe: ") + std::strerror(errno), errno);
    }
    pid_t pid = fork();
    if (pid < 0) {
        return make_error("agent_error", std::string("fork: ") + std::strerror(errno), errno);
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        execl(agent_path.c_str(), agent_path.c_str(), "serve", static_cast<char*>(nullptr));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    signal(SIGPIPE, SIG_IGN);
    return LocalAgent(pid, in[1], out[0], err[0]);
}

LocalAgent::LocalAgent(LocalAgent&& o) noexcept
    : m_pid(o.m_pid), m_in(o.m_in), m_out(o.m_out), m_err(o.m_err),
      m_reader(std::move(o.m_reader)), m_stderr(std::move(o.m_stderr)) {
    o.m_pid = -1;
    o.m_in = o.m_out = o.m_err = -1;
}

LocalAgent::~LocalAgent() {
    for (int fd : {m_in, m_out, m_err}) {
        if (fd >= 0) {
            close(fd);
        }
    }
    if (m_pid > 0) {
        // Closing stdin ends `serve`; give it a moment, then make sure.
        for (int i = 0; i < 50; ++i) {
            if (waitpid(m_pid, nullptr, WNOHANG) == m_pid) {
                return;
            }
            usleep(10000);
        }
        kill(m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
    }
}

void LocalAgent::drain_stderr() {
    char buf[4096];
    ssize_t n;
    while ((n = read(m_err, buf, sizeof buf)) > 0) {
        if (m_stderr.size() < kMaxStderr) {
            m_stderr.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n),
                                                       kMaxStderr - m_stderr.size()));
        }
    }
}

Result<void> LocalAgent::send(std::string_view bytes, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!bytes.empty()) {
        pollfd p{m_in, POLLOUT, 0};
        int rc = poll(&p, 1, remaining_ms(deadline));
        if (rc == 0) {
            return make_error("timeout", "the agent stopped reading its input");
        }
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        ssize_t n = write(m_in, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            drain_stderr();
            return make_error("agent_error", "the agent closed its input");
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

Result<protocol::Frame> LocalAgent::receive(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (auto frame = m_reader.next()) {
            return std::move(*frame);
        }
        pollfd fds[2] = {{m_out, POLLIN, 0}, {m_err, POLLIN, 0}};
        int rc = poll(fds, 2, remaining_ms(deadline));
        if (rc == 0) {
            return make_error("timeout", "no answer from the agent in time");
        }
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        if (fds[1].revents) {
            drain_stderr();
        }
        if (fds[0].revents == 0) {
            continue;
        }
        char buf[65536];
        ssize_t n = read(m_out, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            drain_stderr();
            return make_error("agent_error", "the agent exited" +
                                                 (m_stderr.empty() ? std::string()
                                                                   : ": " + m_stderr.substr(0, 500)));
        }
        if (auto fed = m_reader.feed(std::string_view(buf, static_cast<std::size_t>(n))); !fed) {
            return make_error("agent_error", "garbled reply from the agent: " + fed.error().message);
        }
    }
}

} // namespace bpfleet::fleet
