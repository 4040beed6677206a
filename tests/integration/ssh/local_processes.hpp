// Files and processes on this machine, for the SSH tests: whole files read
// and written, a program started with its output in files, and what /proc
// says about processes and listening ports. Errors come back as "" / false /
// -1, for the tests' own assertions.
#pragma once

#include "common/result.hpp"
#include "common/subprocess.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace bpfleet::test {

namespace fs = std::filesystem;

inline constexpr const char* kEnv = "/usr/bin/env";

// The whole file ("" when it can't be read).
std::string read_text(const fs::path& path);
// The last `n` bytes of `text`, with "..." in front when cut.
std::string text_tail(const std::string& text, std::size_t n);

// `argv` started with stdin /dev/null and stdout/stderr appended to files
// (one file when `out` == `err`); it dies with this process (SIGKILL).
// `env` entries are set ("NAME=value") or, with an empty value, removed: the
// child is started through env(1), which execs argv in the same process, so
// the pid is argv's. `own_group` puts it in a process group of its own (and
// Process::kill then signals the group).
Result<Process> spawn_logged(const std::vector<std::string>& argv, const fs::path& out,
                             const fs::path& err,
                             const std::vector<std::pair<std::string, std::string>>& env,
                             bool own_group);

// Something listens on 127.0.0.1:port or *:port (IPv4, from /proc/net/tcp: no connection is
// made, so nothing shows up in a server's log).
bool listening_on(int port);
// The same, by a socket of process `pid`: a listener of some other process on
// that port does not count.
bool listening_on(int port, pid_t pid);
// Every descendant of `root` (children first level by level), from /proc.
std::vector<pid_t> descendants(pid_t root);
// Running or stopped, i.e. not gone and not a zombie.
bool process_alive(pid_t pid);
// A variable of /proc/PID/environ ("" when missing or unreadable).
std::string process_env(pid_t pid, const std::string& name);
// /proc/PID/cmdline with spaces between the arguments.
std::string process_cmdline(pid_t pid);

} // namespace bpfleet::test
