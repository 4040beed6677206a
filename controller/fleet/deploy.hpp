// Agent deployment: which bpfleet-agent binary a host gets, and putting it
// there once.
//
// AgentCatalog knows the agent binaries per architecture (`uname -m`:
// x86_64, aarch64, armv7l): given with --agent [ARCH=]PATH, $BPFLEET_AGENT_<ARCH>, or
// found next to the controller / in its build tree. Each is read and hashed
// once per run.
//
// start_agent() runs on a connected host, as ONE command on one exec
// channel: it learns `uname -m`, picks the cache folder (--remote-dir, else
// ~/.cache/bpfleet, else ${TMPDIR:-/tmp}/bpfleet-UID when $HOME isn't
// writable), enters it and checks it is a 0700 folder owned by the SSH user
// (never a symlink), and starts agent-<sha256> from it when it is there and
// the user's. Only when it isn't, the same command reads the binary from its
// stdin, verifies its hash, renames it into place and starts it. Checking and
// starting in one command leaves nothing to swap in between; one channel per
// host also spares a round trip and a channel open (which dropbear could
// refuse while reaping the previous command). Nothing else is written on the
// host.
#pragma once

#include "common/result.hpp"
#include "fleet/agent_stream.hpp"
#include "fleet/ssh_link.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace bpfleet::fleet {

struct AgentBinary {
    std::string arch; // uname -m
    std::string path;
    std::shared_ptr<const std::string> bytes;
    std::string sha256;
};

class AgentCatalog {
public:
    // `overrides`: ARCH -> PATH from the command line. Reading and hashing
    // happen here; a given path that can't be read is an error, a missing
    // default is not (hosts of that architecture get unsupported_arch).
    static Result<AgentCatalog> load(const std::map<std::string, std::string>& overrides);

    [[nodiscard]] const AgentBinary* find(const std::string& arch) const;
    // For messages: the architectures an agent exists for.
    [[nodiscard]] std::string available() const;
    // The agent for this machine, for the local transport ("" when none).
    [[nodiscard]] std::string local_path() const;

private:
    std::map<std::string, AgentBinary> m_agents;
    std::string m_local;
};

// The architectures bpfleet builds an agent for, by the agent's names.
inline constexpr const char* kAgentArchNames[] = {"x86_64", "aarch64", "armv7l"};

struct Deployed {
    std::string arch;
    std::string path; // the agent on the host
    std::string sha256;
    bool uploaded = false;
    std::size_t bytes = 0;
};

struct StartedAgent {
    Deployed deployed;
    std::unique_ptr<AgentStream> stream; // the agent's `serve`, before its hello
};

// One exec channel: checks the host's cached agent and starts it (`sudo -n`
// first when `become`); when it isn't there, uploads it over the same
// channel's stdin first (docs/ssh.md).
asio::awaitable<HostExpected<StartedAgent>> start_agent(std::shared_ptr<SshLink> link,
                                                        const AgentCatalog& agents,
                                                        const std::string& remote_dir, bool become,
                                                        Deadline deadline);

} // namespace bpfleet::fleet
