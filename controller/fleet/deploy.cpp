#include "fleet/deploy.hpp"

#include "common/arch.hpp"
#include "common/sha256.hpp"
#include "fleet/exec_channel.hpp"
#include "fleet/shell_quote.hpp"

#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string_view>
#include <unistd.h>

namespace bpfleet::fleet {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxAgentBytes = 64u << 20;
// Without keepalives, how long the upload may see a shut window.
constexpr std::chrono::seconds kUploadStall{30};

// The architectures bpfleet builds an agent for (the agent's names), each
// with the `uname -m` spellings of the hosts it runs on: an armhf agent also
// runs where a 64-bit ARM kernel reports armv8l to a 32-bit userland.
struct AgentArch {
    const char* name;
    const char* uname_patterns; // a shell `case` pattern
};
constexpr AgentArch kAgentArches[] = {
    {"x86_64", "x86_64"},
    {"aarch64", "aarch64|arm64"},
    {"armv7l", "armv7l|armv8l"},
};

// The shipped (stripped) agent in `dir`, else the plain one.
std::string agent_in(const fs::path& dir) {
    for (const char* name : {"bpfleet-agent.stripped", "bpfleet-agent"}) {
        fs::path p = dir / name;
        if (access(p.c_str(), X_OK) == 0) {
            return p.string();
        }
    }
    return {};
}

std::string default_agent_path(const std::string& arch, bool native) {
    std::string upper;
    for (char ch : arch) {
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    if (const char* env = std::getenv(("BPFLEET_AGENT_" + upper).c_str()); env && *env) {
        return env;
    }
    if (native) {
        if (const char* env = std::getenv("BPFLEET_AGENT"); env && *env) {
            return env;
        }
    }
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec).parent_path();
    // Installed: bpfleet-agent-ARCH next to bpfleet, or lib/bpfleet/ARCH/.
    for (const fs::path& p : {self / ("bpfleet-agent-" + arch),
                              self.parent_path() / "lib" / "bpfleet" / arch / "bpfleet-agent"}) {
        if (access(p.c_str(), X_OK) == 0) {
            return p.string();
        }
    }
    // The build tree: controller/bpfleet beside agent/ and agent-ARCH/.
    if (auto p = agent_in(self.parent_path() / ("agent-" + arch)); !p.empty()) {
        return p;
    }
    if (native) {
        if (auto p = agent_in(self.parent_path() / "agent"); !p.empty()) {
            return p;
        }
        if (auto p = agent_in(self); !p.empty()) {
            return p;
        }
    }
    return {};
}

Result<AgentBinary> read_agent(const std::string& arch, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    if (!in || ec) {
        return make_error("usage", "cannot read the agent for " + arch, errno, path);
    }
    if (size > kMaxAgentBytes) {
        return make_error("usage", "the agent for " + arch + " is over 64 MiB", 0, path);
    }
    auto bytes = std::make_shared<std::string>(size, '\0');
    in.read(bytes->data(), static_cast<std::streamsize>(size));
    if (!in) {
        return make_error("usage", "cannot read the agent for " + arch, errno, path);
    }
    AgentBinary agent;
    agent.arch = arch;
    agent.path = path;
    agent.sha256 = Sha256::hex_of(std::string_view(*bytes));
    agent.bytes = std::move(bytes);
    return agent;
}

const char* kHashCommand =
    "if command -v sha256sum >/dev/null 2>&1; then sha256sum; else openssl dgst -sha256 -r; fi";

} // namespace

Result<AgentCatalog> AgentCatalog::load(const std::map<std::string, std::string>& overrides) {
    AgentCatalog catalog;
    const std::string native = machine_arch();
    for (const auto& [arch, path] : overrides) {
        TRY_ASSIGN(AgentBinary agent, read_agent(agent_arch_name(arch), path));
        const std::string name = agent.arch;
        catalog.m_agents[name] = std::move(agent);
    }
    for (const AgentArch& known : kAgentArches) {
        const std::string arch = known.name;
        if (catalog.m_agents.count(arch)) {
            continue;
        }
        if (auto path = default_agent_path(arch, arch == native); !path.empty()) {
            if (auto agent = read_agent(arch, path)) {
                catalog.m_agents[arch] = std::move(*agent);
            }
        }
    }
    if (auto it = catalog.m_agents.find(native); it != catalog.m_agents.end()) {
        catalog.m_local = it->second.path;
    }
    return catalog;
}

const AgentBinary* AgentCatalog::find(const std::string& arch) const {
    auto it = m_agents.find(agent_arch_name(arch));
    return it == m_agents.end() ? nullptr : &it->second;
}

std::string AgentCatalog::available() const {
    std::string out;
    for (const auto& [arch, agent] : m_agents) {
        out += (out.empty() ? "" : ", ") + arch;
    }
    return out.empty() ? "none" : out;
}

std::string AgentCatalog::local_path() const {
    return m_local;
}

namespace {

// The one line the start command writes before anything else on stdout:
// "bpfleet-deploy have=yes|no|none arch=A dir=D" (dir last: it may hold spaces).
constexpr std::string_view kDeployTag = "bpfleet-deploy ";
constexpr std::size_t kMaxDeployLine = 8192;

struct DeployLine {
    std::string have;
    std::string arch;
    std::string dir;
};

std::optional<DeployLine> parse_deploy_line(std::string_view line) {
    if (line.substr(0, kDeployTag.size()) != kDeployTag) {
        return std::nullopt;
    }
    line.remove_prefix(kDeployTag.size());
    DeployLine out;
    for (auto [key, field] : {std::pair{"have=", &out.have}, std::pair{"arch=", &out.arch}}) {
        if (line.substr(0, std::strlen(key)) != key) {
            return std::nullopt;
        }
        line.remove_prefix(std::strlen(key));
        const auto space = line.find(' ');
        if (space == std::string_view::npos) {
            return std::nullopt;
        }
        *field = std::string(line.substr(0, space));
        line.remove_prefix(space + 1);
    }
    if (line.substr(0, 4) != "dir=") {
        return std::nullopt;
    }
    out.dir = std::string(line.substr(4));
    return out;
}

// The start command: one shell on the host that finds the architecture and
// the cache folder, enters the folder, checks it, and then either starts the
// cached agent from it at once or first takes the agent from its own stdin.
// The folder is entered (`cd -P`) before it is checked and the agent is
// started relative to it, so the checked folder is the one the agent comes
// from even when someone else controls a folder above it; only the SSH user
// can add or replace entries in a folder of theirs with mode 0700, and the
// agent file must be theirs too. No hash on the warm path: the name is the
// hash of what was uploaded and checked once, by this same kind of command.
std::string start_script(const AgentCatalog& agents, const std::string& remote_dir, bool become) {
    std::string cases;
    for (const AgentArch& known : kAgentArches) {
        if (const AgentBinary* a = agents.find(known.name)) {
            cases += std::string(known.uname_patterns) + ") s=" + a->sha256 +
                     " n=" + std::to_string(a->bytes->size()) + " ;; ";
        }
    }
    const std::string run = become ? "exec sudo -n -- ./\"$f\" serve" : "exec ./\"$f\" serve";
    return "umask 077; a=$(uname -m); s=; n=; case \"$a\" in " + cases +
           "esac; d=" + shell_quote(remote_dir) +
           "; if [ -z \"$d\" ]; then"
           " if [ -n \"${HOME:-}\" ] && mkdir -p \"$HOME/.cache/bpfleet\" 2>/dev/null && [ -w "
           "\"$HOME/.cache/bpfleet\" ];"
           " then d=\"$HOME/.cache/bpfleet\"; else d=\"${TMPDIR:-/tmp}/bpfleet-$(id -u)\"; fi; fi;"
           " [ -d \"$d\" ] || mkdir -p \"$d\" 2>/dev/null;"
           " if [ -L \"$d\" ] || ! cd -P \"$d\" 2>/dev/null || [ ! -O . ]; then echo \"error=$d is "
           "not a folder owned by $(id -un)\"; exit 0; fi;"
           " chmod 0700 . || { echo \"error=cannot make $d private (chmod 0700)\"; exit 0; };"
           " if [ -z \"$s\" ]; then echo \"bpfleet-deploy have=none arch=$a dir=$PWD\"; exit 0; fi;"
           " f=\"agent-$s\";"
           " if [ -f \"$f\" ] && [ ! -L \"$f\" ] && [ -O \"$f\" ] && [ -x \"$f\" ]; then"
           " echo \"bpfleet-deploy have=yes arch=$a dir=$PWD\"; " +
           run +
           "; fi;"
           " echo \"bpfleet-deploy have=no arch=$a dir=$PWD\"; t=\".agent-$s.$$\";"
           " head -c \"$n\" > \"$t\" || { rm -f \"$t\"; echo \"cannot write $PWD/$t\" >&2; exit 1; "
           "};"
           " h=$( (" +
           std::string(kHashCommand) +
           ") < \"$t\");"
           " if [ \"${h%% *}\" != \"$s\" ]; then rm -f \"$t\"; echo \"the uploaded agent hashes to "
           "${h%% *}, not $s\" >&2; exit 1; fi;"
           " chmod 0700 \"$t\" && mv -f \"$t\" \"$f\" || { rm -f \"$t\"; exit 1; }; " +
           run;
}

} // namespace

asio::awaitable<HostExpected<StartedAgent>> start_agent(std::shared_ptr<SshLink> link,
                                                        const AgentCatalog& agents,
                                                        const std::string& remote_dir, bool become,
                                                        Deadline deadline) {
    const std::string script = start_script(agents, remote_dir, become);
    CO_TRY_ASSIGN(auto channel, co_await ExecChannel::open(
                                    link, "/bin/sh -c " + shell_quote(script), "deploy", deadline));
    // The deploy line, then (once the agent runs) the protocol on the same
    // stdout: whatever came after the line goes to the conversation.
    std::string head;
    std::array<char, 4096> buf{};
    std::size_t newline = std::string::npos;
    while ((newline = head.find('\n')) == std::string::npos) {
        if (head.size() > kMaxDeployLine) {
            co_return host_failure(HostStatus::AgentError, "deploy",
                                   "the host's shell answered the deploy check with over " +
                                       std::to_string(kMaxDeployLine) + " bytes and no newline");
        }
        CO_TRY_ASSIGN(const std::size_t n, co_await channel->read_some(buf, deadline));
        if (n == 0) {
            break;
        }
        head.append(buf.data(), n);
    }
    const std::string line = head.substr(0, newline);
    if (line.rfind("error=", 0) == 0) {
        co_return host_failure(HostStatus::AgentError, "deploy", line.substr(6));
    }
    const auto fields = parse_deploy_line(line);
    if (!fields) {
        const std::string err = channel->stderr_text();
        co_return host_failure(HostStatus::AgentError, "deploy",
                               "the host's shell did not answer the deploy check" +
                                   (err.empty() ? std::string() : ": " + err.substr(0, 300)));
    }
    Deployed d;
    d.arch = agent_arch_name(fields->arch);
    const AgentBinary* agent = agents.find(d.arch);
    if (fields->have == "none" || !agent) {
        HostFailure f{HostStatus::UnsupportedArch, "deploy",
                      "no bpfleet-agent for " + fields->arch + " (agents here: " +
                          agents.available() + "; pass --agent " + d.arch + "=PATH)",
                      false, false};
        co_return tl::unexpected(f);
    }
    d.sha256 = agent->sha256;
    d.path = fields->dir + "/agent-" + agent->sha256;
    d.bytes = agent->bytes->size();
    if (fields->have == "no") {
        // The shell reads exactly the agent's size with `head -c`, then
        // starts it on the same stdin: nothing else is sent before its hello.
        // `head -c` takes the upload as fast as it comes: a window shut for
        // two keepalive intervals while the connection lives (keepalives
        // answered) is a host that stopped taking it, which would otherwise
        // hold the host until its command timeout.
        const auto keepalive = link->settings().keepalive;
        const std::chrono::milliseconds stall =
            keepalive.count() > 0 ? 2 * keepalive : std::chrono::milliseconds(kUploadStall);
        CO_TRY(co_await channel->write_all(*agent->bytes, deadline, {.stall_limit = stall}));
        d.uploaded = true;
    }
    // The agent runs from here on (started by the shell after the line, or
    // after the upload): the channel's failures are the conversation's.
    channel->set_stage("run");
    StartedAgent started;
    started.deployed = std::move(d);
    started.stream = std::make_unique<SshAgentStream>(std::move(channel), head.substr(newline + 1));
    co_return started;
}

} // namespace bpfleet::fleet
