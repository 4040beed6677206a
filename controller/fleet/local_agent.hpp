// An agent session over a local subprocess (`bpfleet-agent serve` on this
// machine): the local transport. Blocking, with a deadline on every wait.
// Owns the child process; the destructor ends it. Not thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <sys/types.h>

#include "common/result.hpp"
#include "protocol/protocol.hpp"

namespace bpfleet::fleet {

class LocalAgent {
public:
    static Result<LocalAgent> start(const std::string& agent_path);
    LocalAgent(LocalAgent&& other) noexcept;
    LocalAgent& operator=(LocalAgent&&) = delete;
    LocalAgent(const LocalAgent&) = delete;
    ~LocalAgent();

    Result<void> send(std::string_view bytes, std::chrono::milliseconds timeout);
    // The next frame, or an error when the agent closes, garbles or times out.
    Result<protocol::Frame> receive(std::chrono::milliseconds timeout);
    // What the agent wrote to stderr so far (bounded), for the forensics bundle.
    const std::string& stderr_text() const { return m_stderr; }

private:
    LocalAgent(pid_t pid, int in, int out, int err) : m_pid(pid), m_in(in), m_out(out), m_err(err) {}
    void drain_stderr();

    pid_t m_pid = -1;
    int m_in = -1;
    int m_out = -1;
    int m_err = -1;
    protocol::FrameReader m_reader{{}};
    std::string m_stderr;
};

} // namespace bpfleet::fleet
