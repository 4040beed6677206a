#include "lab_fixture.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace bpfleet::test {

std::string CliRun::describe() const {
    return "exit " + std::to_string(exit_code) + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
}

std::vector<std::string> bpfleet_argv(const std::vector<std::string>& args,
                                      const std::map<std::string, std::string>& env) {
    std::vector<std::string> argv = {"env"};
    for (const auto& [k, v] : env) {
        argv.push_back(k + "=" + v);
    }
    argv.emplace_back(BPFLEET_CLI_PATH);
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

CliRun run_bpfleet(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env, std::chrono::seconds timeout) {
    CliRun r;
    auto run = run_process(bpfleet_argv(args, env), {.timeout = timeout});
    if (!run) {
        r.err = run.error().describe();
        return r;
    }
    r.exit_code = run->timed_out ? -2 : run->status.code();
    r.out = run->out;
    r.err = run->err + (run->timed_out ? "\n(killed: timeout)\n" : "");
    return r;
}

fs::path lab_cache() {
    if (const char* dir = std::getenv("BPFLEET_LAB_CACHE"); dir && *dir) {
        return dir;
    }
    return fs::path(BPFLEET_BUILD_DIR) / "lab-cache";
}

std::string missing_lab_tools() {
    std::string missing;
    for (const char* tool : {"qemu-system-x86_64", "qemu-system-aarch64", "qemu-system-arm", "cpio",
                             "dpkg-deb", "readelf", "xz", "dropbearkey", "ssh-keygen", "apt-get"}) {
        auto run = run_process({"sh", "-c", std::string("command -v ") + tool});
        if (!run || !run->status.success()) {
            missing += (missing.empty() ? "" : ", ") + std::string(tool);
        }
    }
    return missing;
}

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

std::vector<int> processes_mentioning(const fs::path& dir) {
    std::vector<int> pids;
    const std::string needle = fs::absolute(dir).string();
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        const int pid = std::stoi(name);
        if (pid == ::getpid()) {
            continue;
        }
        std::string stat = slurp(entry.path() / "stat");
        auto paren = stat.rfind(')');
        if (paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z') {
            continue; // gone, or a zombie nobody reaped yet
        }
        std::string cmdline = slurp(entry.path() / "cmdline");
        if (cmdline.find(needle) != std::string::npos) {
            pids.push_back(pid);
        }
    }
    return pids;
}

} // namespace bpfleet::test
