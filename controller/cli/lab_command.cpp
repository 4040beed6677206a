#include "cli/commands.hpp"
#include "lab/lab.hpp"
#include "lab/lab_dir.hpp"

#include <cstdio>
#include <memory>

namespace bpfleet::cli {
namespace {

struct LabOptions {
    std::string dir;
    std::string cache;
    std::string kernels;
    int timeout = 180;
    int base_port = 0;
    std::string accel = "auto";
    int memory_mb = 512;
};

} // namespace

Action register_lab(CLI::App& app) {
    auto* lab = app.add_subcommand(
        "lab", "A fleet of real Debian kernels under QEMU on this machine, reached over SSH "
               "(docs/lab.md)");
    lab->require_subcommand(1);
    auto options = std::make_shared<LabOptions>();
    const std::string dir_help = "The lab's folder: keys, known_hosts, inventory.toml, VMs "
                                 "(default $BPFLEET_LAB_DIR, else ~/.local/state/bpfleet/lab)";
    const std::string kernels_help =
        "Comma-separated lab kernels (default: all): " + lab::lab_kernel_names();

    auto* up = lab->add_subcommand("up", "Fetch, build and boot the lab's VMs; write an inventory "
                                         "for `bpfleet run -i`");
    up->add_option("--dir", options->dir, dir_help);
    up->add_option("--kernels", options->kernels, kernels_help);
    up->add_option("--cache", options->cache,
                   "Downloaded packages and unpacked kernels (default $BPFLEET_LAB_CACHE, else "
                   "~/.cache/bpfleet/lab)");
    up->add_option("--timeout", options->timeout,
                   "Seconds from QEMU's start until SSH must answer, per VM (default 180)")
        ->check(CLI::Range(1, 3600));
    up->add_option("--base-port", options->base_port,
                   "Forward SSH from 127.0.0.1:PORT+i (i: the kernel's place in the list above); "
                   "default: any free port")
        ->check(CLI::Range(1, 65000));
    up->add_option("--accel", options->accel,
                   "auto (KVM when /dev/kvm works for the guest's architecture), tcg or kvm")
        ->check(CLI::IsMember({"auto", "tcg", "kvm"}));
    up->add_option("--memory", options->memory_mb, "MiB of memory per VM (default 512)")
        ->check(CLI::Range(128, 8192));

    auto* status = lab->add_subcommand("status", "Show the lab's VMs and whether SSH answers");
    status->add_option("--dir", options->dir, dir_help);

    auto* down = lab->add_subcommand("down", "Stop the VMs `lab up` started in this folder");
    down->add_option("--dir", options->dir, dir_help);
    down->add_option("--kernels", options->kernels,
                     "Comma-separated lab kernels to stop (default: all)");

    return [options, up, status, down] {
        const std::filesystem::path dir =
            options->dir.empty() ? lab::default_lab_dir() : std::filesystem::path(options->dir);
        auto kernels = lab::parse_kernel_list(options->kernels);
        if (!kernels) {
            std::fprintf(stderr, "bpfleet lab: %s\n", kernels.error().describe().c_str());
            return kExitUsage;
        }
        if (up->parsed()) {
            lab::UpOptions o;
            o.dir = dir;
            o.cache = options->cache.empty() ? lab::default_lab_cache()
                                             : std::filesystem::path(options->cache);
            o.kernels = *kernels;
            o.timeout = std::chrono::seconds(options->timeout);
            o.base_port = options->base_port;
            o.accel = options->accel;
            o.memory_mb = options->memory_mb;
            return lab::lab_up(o);
        }
        if (status->parsed()) {
            return lab::lab_status(dir);
        }
        if (down->parsed()) {
            return lab::lab_down(
                dir, options->kernels.empty() ? std::vector<const lab::LabKernel*>{} : *kernels);
        }
        return kExitUsage;
    };
}

} // namespace bpfleet::cli
