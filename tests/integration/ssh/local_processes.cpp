#include "ssh/local_processes.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <sstream>
#include <unistd.h>

namespace bpfleet::test {
namespace {

// pid, state and parent of a /proc/PID/stat line (comm may hold spaces and parens).
bool read_stat(pid_t pid, char* state, pid_t* ppid) {
    std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos || close + 4 > stat.size()) {
        return false;
    }
    std::istringstream rest(stat.substr(close + 2));
    char s = 0;
    long parent = 0;
    rest >> s >> parent;
    if (!rest) {
        return false;
    }
    if (state) {
        *state = s;
    }
    if (ppid) {
        *ppid = static_cast<pid_t>(parent);
    }
    return true;
}

// `path` opened for appending, close-on-exec (the child gets its own copy on 1 or 2).
Result<Fd> open_log(const fs::path& path) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!fd) {
        return make_error("system", "cannot open " + path.string() + ": " + std::strerror(errno),
                          errno);
    }
    return fd;
}

} // namespace

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string text_tail(const std::string& text, std::size_t n) {
    return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

Result<Process> spawn_logged(const std::vector<std::string>& argv, const fs::path& out,
                             const fs::path& err,
                             const std::vector<std::pair<std::string, std::string>>& env,
                             bool own_group) {
    TRY_ASSIGN(Fd out_fd, open_log(out));
    Fd err_fd;
    if (err != out) {
        TRY_ASSIGN(err_fd, open_log(err));
    }
    // env(1) takes its options (-u NAME) before the first NAME=value.
    std::vector<std::string> command{kEnv};
    for (const auto& [name, value] : env) {
        if (value.empty()) {
            command.insert(command.end(), {"-u", name});
        }
    }
    for (const auto& [name, value] : env) {
        if (!value.empty()) {
            command.push_back(name + "=" + value);
        }
    }
    command.insert(command.end(), argv.begin(), argv.end());
    SpawnOptions options;
    options.out = Stdio::use(out_fd.get());
    options.err = err_fd ? Stdio::use(err_fd.get()) : Stdio::inherit();
    options.err_to_out = !err_fd;
    options.new_process_group = own_group;
    options.die_with_parent = true;
    return Process::spawn(command, options); // the child has its own copies of the files
}

namespace {

// The inodes of the IPv4 sockets listening on 127.0.0.1:port or *:port.
std::vector<std::string> listener_inodes(int port) {
    std::ifstream in("/proc/net/tcp");
    std::string line;
    char loopback[32];
    char any[32];
    std::snprintf(loopback, sizeof loopback, "0100007F:%04X", port);
    std::snprintf(any, sizeof any, "00000000:%04X", port);
    std::getline(in, line); // header
    std::vector<std::string> inodes;
    while (std::getline(in, line)) {
        // sl local remote st tx:rx tr:when retrnsmt uid timeout inode
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
        fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
            timeout >> inode;
        if ((local == loopback || local == any) && state == "0A") {
            inodes.push_back(inode);
        }
    }
    return inodes;
}

} // namespace

bool listening_on(int port) {
    return !listener_inodes(port).empty();
}

bool listening_on(int port, pid_t pid) {
    const auto inodes = listener_inodes(port);
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        const auto target = fs::read_symlink(entry.path(), ec).string();
        for (const auto& inode : inodes) {
            if (target == "socket:[" + inode + "]") {
                return true;
            }
        }
    }
    return false;
}

std::vector<pid_t> descendants(pid_t root) {
    std::multimap<pid_t, pid_t> children;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() ||
            !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            continue;
        }
        pid_t pid = static_cast<pid_t>(std::stol(name));
        pid_t parent = 0;
        if (read_stat(pid, nullptr, &parent)) {
            children.emplace(parent, pid);
        }
    }
    std::vector<pid_t> out;
    std::deque<pid_t> queue{root};
    while (!queue.empty()) {
        pid_t p = queue.front();
        queue.pop_front();
        auto [first, last] = children.equal_range(p);
        for (auto it = first; it != last; ++it) {
            out.push_back(it->second);
            queue.push_back(it->second);
        }
    }
    return out;
}

bool process_alive(pid_t pid) {
    char state = 0;
    return read_stat(pid, &state, nullptr) && state != 'Z' && state != 'X';
}

std::string process_env(pid_t pid, const std::string& name) {
    std::string env = read_text("/proc/" + std::to_string(pid) + "/environ");
    std::string want = name + "=";
    std::size_t pos = 0;
    while (pos < env.size()) {
        auto end = env.find('\0', pos);
        if (end == std::string::npos) {
            end = env.size();
        }
        if (env.compare(pos, want.size(), want) == 0) {
            return env.substr(pos + want.size(), end - pos - want.size());
        }
        pos = end + 1;
    }
    return {};
}

std::string process_cmdline(pid_t pid) {
    std::string cmd = read_text("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    return cmd;
}

} // namespace bpfleet::test
