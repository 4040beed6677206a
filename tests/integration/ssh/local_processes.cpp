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
#include <sys/prctl.h>
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

pid_t spawn_logged(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err,
                   const std::vector<std::pair<std::string, std::string>>& env, int death_signal,
                   bool own_group) {
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid != 0) {
        return pid;
    }
    ::prctl(PR_SET_PDEATHSIG, death_signal);
    if (::getppid() != parent) {
        ::_exit(126);
    }
    if (own_group) {
        ::setpgid(0, 0);
    }
    int in = ::open("/dev/null", O_RDONLY);
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int e = err == out ? o : ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || o < 0 || e < 0) {
        ::_exit(126);
    }
    ::dup2(in, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    for (const auto& [name, value] : env) {
        if (value.empty()) {
            ::unsetenv(name.c_str());
        } else {
            ::setenv(name.c_str(), value.c_str(), 1);
        }
    }
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::dprintf(2, "exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
}

bool listening_on(int port) {
    std::ifstream in("/proc/net/tcp");
    std::string line;
    char loopback[32];
    char any[32];
    std::snprintf(loopback, sizeof loopback, "0100007F:%04X", port);
    std::snprintf(any, sizeof any, "00000000:%04X", port);
    std::getline(in, line); // header
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state;
        fields >> slot >> local >> remote >> state;
        if ((local == loopback || local == any) && state == "0A") {
            return true;
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
