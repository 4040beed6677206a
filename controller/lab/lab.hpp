// `bpfleet lab up | status | down`: a fleet of real Debian kernels under QEMU
// on this machine, reached over SSH like any other hosts (docs/lab.md).
//
// Each call prints what it did (a table on stdout, progress and problems on
// stderr) and returns the process exit status: 0 done, 1 some VM did not come
// up (or, for status, is not running), 2 usage or setup error, 130
// interrupted. Synchronous; `up` installs SIGINT/SIGTERM handlers for its
// duration so that an interrupt stops the VMs it started and leaves the
// inventory listing only VMs that are still up.
#pragma once

#include "lab/kernels.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace bpfleet::lab {

struct UpOptions {
    std::filesystem::path dir;
    std::filesystem::path cache;
    std::vector<const LabKernel*> kernels;
    std::chrono::seconds timeout{180}; // QEMU start to SSH banner, per VM
    int base_port = 0;                 // 0: any free port; else VM i gets base_port + i
    std::string accel = "auto";        // "auto", "tcg", "kvm"
    int memory_mb = 512;
    std::filesystem::path scripts; // lab-image.sh's folder; empty: found beside bpfleet
};

int lab_up(const UpOptions& options);
int lab_status(const std::filesystem::path& dir);
// Stops the given kernels' VMs (all when empty) that this lab started.
int lab_down(const std::filesystem::path& dir, const std::vector<const LabKernel*>& kernels);

// Where lab-image.sh is: $BPFLEET_LAB_SCRIPTS, share/bpfleet/lab beside an
// installed bpfleet, else the source tree's scripts/lab. Empty when none.
std::filesystem::path find_lab_scripts();

} // namespace bpfleet::lab
