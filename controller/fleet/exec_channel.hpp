// ExecChannel: one remote command on an SshLink ("exec" channel), with its
// stdin, stdout, stderr and exit status. It keeps its link alive, and frees
// its channel before the link's session goes.
//
// Event loop thread only. Every call is bounded by its deadline; failures are
// HostFailures in the channel's stage: the remote command's end (agent_error,
// not retried, with its stderr) is told apart from a lost connection
// (unreachable, retried).
#pragma once

#include "fleet/host_failure.hpp"
#include "fleet/ssh_handles.hpp"
#include "fleet/ssh_link.hpp"

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace bpfleet::fleet {

// One remote command on a link. Move-only through its unique_ptr.
class ExecChannel {
public:
    static asio::awaitable<HostExpected<std::unique_ptr<ExecChannel>>>
    open(std::shared_ptr<SshLink> link, std::string command, std::string_view stage,
         Deadline deadline);

    ExecChannel(const ExecChannel&) = delete;
    ExecChannel& operator=(const ExecChannel&) = delete;
    ~ExecChannel() = default;

    struct WriteOptions {
        // Someone reads the command's stdout meanwhile (the pipelined
        // conversation): output waiting to be read is no sign that the
        // command gave up on its input.
        bool output_read_elsewhere = false;
        // Fail when the host has taken none of the bytes for this long (its
        // window stays shut while the connection lives: keepalives are
        // answered, the command's deadline is far away). 0: no limit, for a
        // reader that may rightly pause (an agent checking an object).
        std::chrono::milliseconds stall_limit{0};
    };
    // Writes every byte to the command's stdin (respecting the channel window).
    asio::awaitable<HostExpected<void>> write_all(std::string_view bytes, Deadline deadline,
                                                  WriteOptions options);
    asio::awaitable<HostExpected<void>> write_all(std::string_view bytes, Deadline deadline) {
        return write_all(bytes, deadline, WriteOptions{});
    }
    asio::awaitable<HostExpected<void>> send_eof(Deadline deadline);
    // Some stdout bytes; 0 at end of output. Stderr is collected on the way.
    asio::awaitable<HostExpected<std::size_t>> read_some(std::span<char> buffer, Deadline deadline);
    // All of stdout up to EOF (at most `limit` bytes, else an agent_error).
    asio::awaitable<HostExpected<std::string>> read_all(std::size_t limit, Deadline deadline);
    // The exit status once the command has ended (-1 when it was killed by a signal).
    asio::awaitable<HostExpected<int>> exit_status(Deadline deadline);

    // The stage its failures name from now on: the deploy command's channel
    // carries the agent's conversation once the agent runs ("run"), and a
    // host lost mid-check is lost in `run`, not in `deploy`.
    void set_stage(std::string stage) { m_stage = std::move(stage); }

    // What the command wrote to stderr so far (the first 64 KiB).
    [[nodiscard]] const std::string& stderr_text() const { return m_stderr; }

private:
    ExecChannel(std::shared_ptr<SshLink> link, SshChannelPtr channel, std::string stage)
        : m_link(std::move(link)), m_channel(std::move(channel)), m_stage(std::move(stage)) {}
    void drain_stderr();
    // A channel error while `doing`: the remote command's end (agent_error,
    // never retried, with its stderr) while the connection is fine, else the
    // connection's failure.
    HostFailure channel_failure(std::string_view doing);

    std::shared_ptr<SshLink> m_link;
    SshChannelPtr m_channel; // after m_link: freed before the session
    std::string m_stage;
    std::string m_stderr;
};

} // namespace bpfleet::fleet
