#include "fleet/exec_channel.hpp"

#include <algorithm>
#include <libssh/libssh.h>
#include <vector>

namespace bpfleet::fleet {
namespace {

constexpr std::size_t kMaxStderr = 64 << 10;
constexpr std::size_t kWriteChunk = 64 << 10;

} // namespace

asio::awaitable<HostExpected<std::unique_ptr<ExecChannel>>>
ExecChannel::open(std::shared_ptr<SshLink> link, std::string command, std::string_view stage,
                  Deadline deadline) {
    SshChannelPtr owner(ssh_channel_new(link->session()));
    if (!owner) {
        co_return tl::unexpected(
            link->ssh_failure(HostStatus::Unreachable, stage, "opening a channel", true));
    }
    ssh_channel channel = owner.get();
    std::unique_ptr<ExecChannel> exec(new ExecChannel(link, std::move(owner), std::string(stage)));
    WaitResult why;
    int rc = co_await link->retry([&] { return ssh_channel_open_session(channel); }, deadline, why);
    if (why != WaitResult::Ready) {
        co_return tl::unexpected(link->stopped(why, stage, "opening a session channel"));
    }
    if (rc != SSH_OK) {
        co_return tl::unexpected(
            link->ssh_failure(HostStatus::AgentError, stage, "opening a session channel", false));
    }
    rc = co_await link->retry([&] { return ssh_channel_request_exec(channel, command.c_str()); },
                              deadline, why);
    if (why != WaitResult::Ready) {
        co_return tl::unexpected(link->stopped(why, stage, "starting a command"));
    }
    if (rc != SSH_OK) {
        co_return tl::unexpected(
            link->ssh_failure(HostStatus::AgentError, stage, "starting a command", false));
    }
    co_return exec;
}

void ExecChannel::drain_stderr() {
    char buf[4096];
    int n;
    while ((n = ssh_channel_read_nonblocking(m_channel.get(), buf, sizeof buf, 1)) > 0) {
        if (m_stderr.size() < kMaxStderr) {
            m_stderr.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n),
                                                       kMaxStderr - m_stderr.size()));
        }
    }
}

HostFailure ExecChannel::channel_failure(std::string_view doing) {
    if (!m_link->transport_ok()) {
        return m_link->ssh_failure(HostStatus::Unreachable, m_stage, doing, true);
    }
    drain_stderr();
    return HostFailure{HostStatus::AgentError, m_stage,
                       "the remote command ended while " + std::string(doing) +
                           (m_stderr.empty() ? std::string() : ": " + m_stderr.substr(0, 300)),
                       false, false};
}

asio::awaitable<HostExpected<void>>
ExecChannel::write_all(std::string_view bytes, Deadline deadline, WriteOptions options) {
    const std::size_t total = bytes.size();
    auto last_progress = Clock::now();
    while (!bytes.empty()) {
        drain_stderr();
        if (ssh_channel_is_closed(m_channel.get()) || ssh_channel_is_eof(m_channel.get())) {
            co_return host_failure(
                HostStatus::AgentError, m_stage,
                "the remote command stopped reading its input" +
                    (m_stderr.empty() ? std::string() : ": " + m_stderr.substr(0, 300)));
        }
        std::size_t window = ssh_channel_window_size(m_channel.get());
        if (window == 0) {
            if (options.stall_limit.count() > 0 &&
                Clock::now() - last_progress >= options.stall_limit) {
                drain_stderr();
                co_return host_failure(
                    HostStatus::AgentError, m_stage,
                    "the host took none of the input for " +
                        std::to_string(
                            std::chrono::duration_cast<std::chrono::seconds>(options.stall_limit)
                                .count()) +
                        " s (its SSH window stayed shut after " +
                        std::to_string(total - bytes.size()) + " of " + std::to_string(total) +
                        " bytes)" +
                        (m_stderr.empty() ? std::string()
                                          : "; stderr: " + m_stderr.substr(0, 300)));
            }
            WaitResult why =
                co_await m_link->wait(options.stall_limit.count() > 0
                                          ? std::min(deadline, last_progress + options.stall_limit)
                                          : deadline);
            if (why == WaitResult::TimedOut && Clock::now() < deadline) {
                continue; // the stall limit: decided above
            }
            if (why != WaitResult::Ready) {
                co_return tl::unexpected(m_link->stopped(why, m_stage, "sending data"));
            }
            // Lets libssh read the window adjustment (it reads no packets
            // while stdout holds unread bytes).
            const int pending = ssh_channel_poll(m_channel.get(), 0);
            if (pending == SSH_ERROR) {
                co_return tl::unexpected(channel_failure("sending data"));
            }
            if (pending > 0 && !options.output_read_elsewhere) {
                // It answered without taking its input, and libssh reads no
                // further (nor a close) while that answer waits: it has given up.
                char head[300];
                const int n = ssh_channel_read_nonblocking(m_channel.get(), head, sizeof head, 0);
                std::string text(head, static_cast<std::size_t>(std::max(n, 0)));
                std::replace_if(
                    text.begin(), text.end(), [](char ch) { return ch < 0x20 || ch > 0x7e; }, '?');
                drain_stderr();
                co_return host_failure(
                    HostStatus::AgentError, m_stage,
                    "the remote command stopped reading its input and wrote '" + text + "'" +
                        (m_stderr.empty() ? std::string()
                                          : "; stderr: " + m_stderr.substr(0, 300)));
            }
            continue;
        }
        // libssh copies what it is given into the session's output buffer:
        // hand it a little at a time, and only once the last piece has gone
        // out, so that a hundred uploads in flight hold kilobytes each, not
        // an agent each.
        if (ssh_get_poll_flags(m_link->session()) & SSH_WRITE_PENDING) {
            WaitResult why = co_await m_link->wait_writable(deadline);
            if (why != WaitResult::Ready) {
                co_return tl::unexpected(m_link->stopped(why, m_stage, "sending data"));
            }
            continue;
        }
        std::size_t len = std::min<std::size_t>({bytes.size(), window, kWriteChunk});
        int rc = ssh_channel_write(m_channel.get(), bytes.data(), static_cast<uint32_t>(len));
        if (rc < 0) {
            co_return tl::unexpected(channel_failure("sending data"));
        }
        bytes.remove_prefix(static_cast<std::size_t>(rc));
        if (rc > 0) {
            last_progress = Clock::now();
        } else {
            WaitResult why = co_await m_link->wait(deadline);
            if (why != WaitResult::Ready) {
                co_return tl::unexpected(m_link->stopped(why, m_stage, "sending data"));
            }
        }
    }
    co_return HostExpected<void>{};
}

asio::awaitable<HostExpected<void>> ExecChannel::send_eof(Deadline deadline) {
    WaitResult why;
    int rc = co_await m_link->retry([&] { return ssh_channel_send_eof(m_channel.get()); }, deadline,
                                    why);
    if (why != WaitResult::Ready) {
        co_return tl::unexpected(m_link->stopped(why, m_stage, "closing the command's input"));
    }
    if (rc != SSH_OK) {
        co_return tl::unexpected(m_link->ssh_failure(HostStatus::Unreachable, m_stage,
                                                     "closing the command's input", true));
    }
    co_return HostExpected<void>{};
}

asio::awaitable<HostExpected<std::size_t>> ExecChannel::read_some(std::span<char> buffer,
                                                                  Deadline deadline) {
    for (;;) {
        int n = ssh_channel_read_nonblocking(m_channel.get(), buffer.data(),
                                             static_cast<uint32_t>(buffer.size()), 0);
        if (n > 0) {
            co_return static_cast<std::size_t>(n);
        }
        if (n == SSH_ERROR) {
            co_return tl::unexpected(m_link->ssh_failure(HostStatus::Unreachable, m_stage,
                                                         "reading the command's output", true));
        }
        drain_stderr();
        if (ssh_channel_is_eof(m_channel.get()) || ssh_channel_is_closed(m_channel.get())) {
            co_return std::size_t{0};
        }
        WaitResult why = co_await m_link->wait(deadline);
        if (why != WaitResult::Ready) {
            co_return tl::unexpected(
                m_link->stopped(why, m_stage, "waiting for the command's output"));
        }
    }
}

asio::awaitable<HostExpected<std::string>> ExecChannel::read_all(std::size_t limit,
                                                                 Deadline deadline) {
    std::string out;
    std::vector<char> buf(16384);
    for (;;) {
        CO_TRY_ASSIGN(const std::size_t n, co_await read_some(buf, deadline));
        if (n == 0) {
            co_return out;
        }
        if (out.size() + n > limit) {
            co_return host_failure(HostStatus::AgentError, m_stage,
                                   "the remote command wrote more than " + std::to_string(limit) +
                                       " bytes");
        }
        out.append(buf.data(), n);
    }
}

asio::awaitable<HostExpected<int>> ExecChannel::exit_status(Deadline deadline) {
    for (;;) {
        drain_stderr();
        int rc = ssh_channel_get_exit_status(m_channel.get());
        if (rc != -1) {
            co_return rc;
        }
        if (ssh_channel_is_closed(m_channel.get())) {
            co_return -1;
        }
        WaitResult why = co_await m_link->wait(deadline);
        if (why != WaitResult::Ready) {
            co_return tl::unexpected(
                m_link->stopped(why, m_stage, "waiting for the command to end"));
        }
    }
}
} // namespace bpfleet::fleet
