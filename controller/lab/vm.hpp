// One lab VM's QEMU: its command line, starting it as a daemon, recognising
// it again by pid file, asking its SSH server for a banner, stopping it.
//
// A started QEMU is a daemon (-daemonize, own session): it outlives
// `bpfleet lab up` by design and is stopped by `lab down`, or by `up` itself
// when interrupted. It is recognised by its pid file *and* by its command line
// naming the VM's folder, so a reused pid is never signalled.
//
// Not thread-safe; all calls are synchronous and bounded in time.
#pragma once

#include "common/result.hpp"
#include "lab/kernels.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace bpfleet::lab {

struct QemuSettings {
    bool kvm = false;    // -accel kvm -cpu host; else TCG with the kernel's own -cpu
    int memory_mb = 512; // -m
};

// The QEMU command line of the VM in `vm_dir` (vmlinuz, initrd.img; writes
// console.log and qemu.pid there), with SSH forwarded from 127.0.0.1:port.
std::vector<std::string> qemu_command(const LabKernel& kernel, const std::filesystem::path& vm_dir,
                                      int port, const QemuSettings& settings);

// Starts the VM (QEMU daemonizes once the machine is set up) and returns its
// pid. Errors: "port_taken" when the port could not be forwarded, "qemu"
// for anything else QEMU refused (its own words in the message), "system"
// when it could not be run at all.
Result<pid_t> start_qemu(const LabKernel& kernel, const std::filesystem::path& vm_dir, int port,
                         const QemuSettings& settings);

// The pid in vm_dir/qemu.pid when that process is alive and is the QEMU of
// this folder; nullopt otherwise.
std::optional<pid_t> running_qemu(const std::filesystem::path& vm_dir);

// SIGTERM, then SIGKILL after `grace`, and waits until the process is gone
// (at most a few seconds more). Only for a pid running_qemu() returned.
void stop_qemu(pid_t pid, std::chrono::milliseconds grace = std::chrono::milliseconds(3000));

// Whether an SSH server answers on 127.0.0.1:port within `timeout`: its
// banner ("SSH-2.0-...") arrived. QEMU's user networking accepts the TCP
// connection before the guest listens, so a connect alone proves nothing.
bool ssh_answers(int port, std::chrono::milliseconds timeout);

// A port on 127.0.0.1 that was free a moment ago (bound and released).
Result<int> free_port();

// Whether KVM can run a guest of `uname_arch` here: /dev/kvm opens, speaks
// API 12, and the guest's architecture is this machine's.
bool kvm_usable(std::string_view uname_arch);

// The last `lines` lines of vm_dir/console.log, control characters removed.
std::string console_tail(const std::filesystem::path& vm_dir, std::size_t lines = 20);

} // namespace bpfleet::lab
