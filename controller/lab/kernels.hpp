// The kernels a lab can boot: real Debian kernel packages, each with the QEMU
// machine that runs it. The table is the one place that knows package names,
// suites and QEMU options; everything else goes by the lab name
// ("6.1-amd64").
//
// Pure data and parsing; no I/O.
#pragma once

#include "common/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::lab {

struct LabKernel {
    std::string_view name;        // "6.1-amd64": what --kernels takes, "lab-" + it is the host
    std::string_view series;      // "6.1": the upstream series (an inventory tag)
    std::string_view debian_arch; // "amd64", "arm64", "armhf"
    std::string_view uname_arch;  // "x86_64", "aarch64", "armv7l"
    std::string_view package;     // extended regex for the package name; the newest wins
    std::string_view suites;      // the Debian suites looked in, space-separated
    std::string_view qemu;        // the QEMU system emulator
    std::string_view machine;     // -M, empty for the default
    std::string_view cpu;         // -cpu under TCG
    std::string_view console;     // the kernel's serial console device
};

// Every kernel the lab knows, in the order `lab up` boots them by default.
const std::vector<LabKernel>& lab_kernels();

// The kernel of that name; nullptr when there is none.
const LabKernel* find_lab_kernel(std::string_view name);

// The names, comma-separated ("5.10-amd64, 6.1-amd64, ...") for messages.
std::string lab_kernel_names();

// "6.1-amd64,5.10-arm64" (commas or spaces, repeated names once) -> kernels in
// the order given; empty text -> all. An unknown name is a "usage" error that
// names it and lists the known ones.
Result<std::vector<const LabKernel*>> parse_kernel_list(std::string_view text);

// "lab-6.1-amd64": the VM's host name in the inventory and its folder's name.
std::string vm_name(const LabKernel& kernel);

} // namespace bpfleet::lab
