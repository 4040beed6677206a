// The byte stream to one `bpfleet-agent serve`, whatever carries it: an SSH
// exec channel (SshAgentStream) or a local subprocess's pipes
// (LocalAgentStream, the local transport). The protocol conversation
// (agent_conversation.hpp) only sees this interface.
//
// Every call is bounded by a deadline and runs on the event loop's thread;
// nothing here is thread-safe.
#pragma once

#include "fleet/exec_channel.hpp"
#include "fleet/host_failure.hpp"

#include <algorithm>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::fleet {

class AgentStream {
public:
    virtual ~AgentStream() = default;
    virtual asio::awaitable<HostExpected<void>> write(std::string_view bytes,
                                                      Deadline deadline) = 0;
    // Some bytes of the agent's stdout; 0 when it has closed it.
    virtual asio::awaitable<HostExpected<std::size_t>> read_some(std::span<char> buffer,
                                                                 Deadline deadline) = 0;
    // What the agent (or sudo, or the shell) wrote to stderr so far, bounded.
    [[nodiscard]] virtual std::string stderr_text() const = 0;
};

class SshAgentStream final : public AgentStream {
public:
    // `pending`: stdout bytes already read from the channel (after the start
    // command's own line), handed out before any more are read.
    explicit SshAgentStream(std::unique_ptr<ExecChannel> channel, std::string pending = {})
        : m_channel(std::move(channel)), m_pending(std::move(pending)) {}
    asio::awaitable<HostExpected<void>> write(std::string_view bytes, Deadline deadline) override {
        // The conversation reads the agent's answers while it writes.
        return m_channel->write_all(bytes, deadline, {.output_read_elsewhere = true});
    }
    asio::awaitable<HostExpected<std::size_t>> read_some(std::span<char> buffer,
                                                         Deadline deadline) override {
        if (!m_pending.empty()) {
            const std::size_t n = std::min(buffer.size(), m_pending.size());
            std::copy_n(m_pending.begin(), n, buffer.begin());
            m_pending.erase(0, n);
            co_return n;
        }
        co_return co_await m_channel->read_some(buffer, deadline);
    }
    [[nodiscard]] std::string stderr_text() const override { return m_channel->stderr_text(); }

private:
    std::unique_ptr<ExecChannel> m_channel;
    std::string m_pending;
};

struct LocalProcess;

// `argv` run as a child process (normally AGENT serve, or sudo -n AGENT serve).
// The destructor closes its stdin, gives it half a second to leave, then
// kills it; it never leaves a zombie.
class LocalAgentStream final : public AgentStream {
public:
    static HostExpected<std::unique_ptr<LocalAgentStream>>
    start(const asio::any_io_executor& executor, const std::vector<std::string>& argv,
          const bool* cancelled);
    ~LocalAgentStream() override;
    asio::awaitable<HostExpected<void>> write(std::string_view bytes, Deadline deadline) override;
    asio::awaitable<HostExpected<std::size_t>> read_some(std::span<char> buffer,
                                                         Deadline deadline) override;
    [[nodiscard]] std::string stderr_text() const override;

private:
    explicit LocalAgentStream(std::shared_ptr<LocalProcess> process)
        : m_process(std::move(process)) {}
    std::shared_ptr<LocalProcess> m_process;
};

} // namespace bpfleet::fleet
