// Helpers for the lab tier (label `lab`): run `bpfleet` as a subprocess with
// extra environment, the shared download cache, prerequisites, and looking
// for QEMU processes a lab folder left behind.
//
// The cache is $BPFLEET_LAB_CACHE when set (CI sets one per run), else
// BUILD/lab-cache: kernels and packages are downloaded once, then reused.
#pragma once

#include "common/subprocess.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace bpfleet::test {

namespace fs = std::filesystem;

struct CliRun {
    int exit_code = -1;
    std::string out;
    std::string err;
    [[nodiscard]] std::string describe() const;
};

// bpfleet ARGS with `env` added to the environment, killed after `timeout`.
CliRun run_bpfleet(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env = {},
                   std::chrono::seconds timeout = std::chrono::seconds(600));

// The argv that runs bpfleet with `env` added (for a Process of one's own).
std::vector<std::string> bpfleet_argv(const std::vector<std::string>& args,
                                      const std::map<std::string, std::string>& env = {});

fs::path lab_cache();

// Empty when everything `bpfleet lab up` needs is installed, else what is not.
std::string missing_lab_tools();

// Pids of live processes whose command line mentions `dir` (a lab folder):
// a QEMU left running by a lab command shows up here.
std::vector<int> processes_mentioning(const fs::path& dir);

std::string slurp(const fs::path& path);

} // namespace bpfleet::test
