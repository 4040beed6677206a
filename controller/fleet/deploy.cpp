#include "fleet/deploy.hpp"

#include "common/arch.hpp"
#include "common/sha256.hpp"
#include "fleet/exec_channel.hpp"
#include "fleet/shell_quote.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace bpfleet::fleet {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxAgentBytes = 64u << 20;

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

// key=value lines.
std::map<std::string, std::string> parse_fields(const std::string& text) {
    std::map<std::string, std::string> fields;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (auto eq = line.find('='); eq != std::string::npos) {
            fields[line.substr(0, eq)] = line.substr(eq + 1);
        }
    }
    return fields;
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

asio::awaitable<HostExpected<Deployed>> deploy_agent(std::shared_ptr<SshLink> link,
                                                     const AgentCatalog& agents,
                                                     const std::string& remote_dir,
                                                     Deadline deadline) {
    // One round trip: the architecture, the folder, and whether the agent
    // for that architecture is already there, hash checked.
    std::string cases;
    for (const AgentArch& known : kAgentArches) {
        if (const AgentBinary* a = agents.find(known.name)) {
            cases += std::string(known.uname_patterns) + ") s=" + a->sha256 + " ;; ";
        }
    }
    std::string script =
        "umask 077; a=$(uname -m); s=; case \"$a\" in " + cases +
        "esac; d=" + shell_quote(remote_dir) +
        "; if [ -z \"$d\" ]; then"
        " if [ -n \"${HOME:-}\" ] && mkdir -p \"$HOME/.cache/bpfleet\" 2>/dev/null && [ -w "
        "\"$HOME/.cache/bpfleet\" ];"
        " then d=\"$HOME/.cache/bpfleet\"; else d=\"${TMPDIR:-/tmp}/bpfleet-$(id -u)\"; fi; fi;"
        " mkdir -p \"$d\" 2>/dev/null;"
        " if [ -L \"$d\" ] || [ ! -d \"$d\" ] || [ ! -O \"$d\" ]; then echo \"error=$d is not a "
        "folder owned by $(id -un)\"; exit 0; fi;"
        " chmod 0700 \"$d\" || { echo \"error=cannot make $d private (chmod 0700)\"; exit 0; };"
        " h=no; if [ -n \"$s\" ] && [ -x \"$d/agent-$s\" ]; then t=$( (" +
        std::string(kHashCommand) +
        ") < \"$d/agent-$s\" 2>/dev/null); [ \"${t%% *}\" = \"$s\" ] && h=yes; fi;"
        " echo \"arch=$a\"; echo \"dir=$d\"; echo \"have=$h\"";
    CO_TRY_ASSIGN(
        const auto look,
        co_await ExecChannel::open(link, "/bin/sh -c " + shell_quote(script), "deploy", deadline));
    CO_TRY_ASSIGN(const std::string out, co_await look->read_all(64 << 10, deadline));
    // The check's exit before any other channel: dropbear (2022.83, common on
    // boards) closes a session channel opened while it is still reaping the
    // previous command, and that channel then fails to open.
    CO_TRY(co_await look->exit_status(deadline));
    auto fields = parse_fields(out);
    if (fields.count("error")) {
        co_return host_failure(HostStatus::AgentError, "deploy", fields["error"]);
    }
    if (!fields.count("arch") || !fields.count("dir") || !fields.count("have")) {
        const std::string err = look->stderr_text();
        co_return host_failure(HostStatus::AgentError, "deploy",
                               "the host's shell did not answer the deploy check" +
                                   (err.empty() ? std::string() : ": " + err.substr(0, 300)));
    }
    Deployed d;
    d.arch = agent_arch_name(fields["arch"]);
    const AgentBinary* agent = agents.find(d.arch);
    if (!agent) {
        HostFailure f{HostStatus::UnsupportedArch, "deploy",
                      "no bpfleet-agent for " + fields["arch"] + " (agents here: " +
                          agents.available() + "; pass --agent " + d.arch + "=PATH)",
                      false, false};
        co_return tl::unexpected(f);
    }
    d.sha256 = agent->sha256;
    d.path = fields["dir"] + "/agent-" + agent->sha256;
    d.bytes = agent->bytes->size();
    if (fields["have"] == "yes") {
        co_return d;
    }

    const std::string dir = shell_quote(fields["dir"]);
    const std::string upload =
        "umask 077; d=" + dir + "; s=" + agent->sha256 +
        "; t=\"$d/.agent-$s.$$\";"
        " cat > \"$t\" || { rm -f \"$t\"; echo \"cannot write $t\" >&2; exit 1; };"
        " h=$( (" +
        std::string(kHashCommand) +
        ") < \"$t\");"
        " if [ \"${h%% *}\" != \"$s\" ]; then rm -f \"$t\"; echo \"the uploaded agent hashes to "
        "${h%% *}, not $s\" >&2; exit 1; fi;"
        " chmod 0700 \"$t\" && mv -f \"$t\" \"$d/agent-$s\" || { rm -f \"$t\"; exit 1; }";
    CO_TRY_ASSIGN(
        const auto put,
        co_await ExecChannel::open(link, "/bin/sh -c " + shell_quote(upload), "deploy", deadline));
    CO_TRY(co_await put->write_all(*agent->bytes, deadline));
    CO_TRY(co_await put->send_eof(deadline));
    CO_TRY_ASSIGN(const int status, co_await put->exit_status(deadline));
    if (status != 0) {
        const std::string err = put->stderr_text();
        co_return host_failure(HostStatus::AgentError, "deploy",
                               "uploading the agent to " + d.path + " failed (exit " +
                                   std::to_string(status) + ")" +
                                   (err.empty() ? std::string() : ": " + err.substr(0, 300)));
    }
    d.uploaded = true;
    co_return d;
}

} // namespace bpfleet::fleet
