// The lab's folder (--dir): what `bpfleet lab up` made and `down` undoes.
//
//   DIR/lab.lock                  held (flock) by the one lab command working on DIR
//   DIR/id_ed25519[.pub]          the client key root logs in to every VM with
//   DIR/known_hosts               the VMs' host keys, [127.0.0.1]:PORT
//   DIR/inventory.toml            the VMs that are up, for `bpfleet run -i`
//   DIR/vms/lab-NAME/             one VM: vmlinuz, initrd.img, config, kernel.txt,
//                                 host_key[.pub], image.log, console.log, qemu.pid, state
//
// The inventory and known_hosts only ever list VMs that answered SSH and are
// still running: they are rewritten (atomically) after every change.
// Not thread-safe; one LabDir per process.
#pragma once

#include "common/fd.hpp"
#include "common/result.hpp"
#include "lab/kernels.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace bpfleet::lab {

// What `up` recorded about a VM (vms/NAME/state and the image's files).
struct VmRecord {
    const LabKernel* kernel = nullptr;
    std::filesystem::path dir;
    int port = 0;
    long boot_ms = 0;    // QEMU start to SSH banner
    std::string accel;   // "tcg" or "kvm"
    std::string package; // kernel.txt: Debian package, version, uname -r
    std::string version;
    std::string release;
    bool btf = false;         // the kernel's config has CONFIG_DEBUG_INFO_BTF=y
    std::string host_key;     // "ssh-ed25519 AAAA..."
    std::optional<pid_t> pid; // the running QEMU of this folder, if any
};

class LabDir {
public:
    // Creates DIR (and vms/) when missing and takes its lock; another lab
    // command on the same DIR is an error ("busy") that says so.
    static Result<LabDir> open(std::filesystem::path dir);
    // For reading only (status): no lock, nothing created; nullopt when DIR
    // holds no lab.
    static std::optional<LabDir> open_read_only(std::filesystem::path dir);

    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    [[nodiscard]] std::filesystem::path vm_dir(const LabKernel& kernel) const;
    [[nodiscard]] std::filesystem::path inventory() const { return m_path / "inventory.toml"; }
    [[nodiscard]] std::filesystem::path known_hosts() const { return m_path / "known_hosts"; }
    [[nodiscard]] std::filesystem::path client_key() const { return m_path / "id_ed25519"; }

    // Makes the client key pair once (ssh-keygen).
    Result<void> ensure_client_key() const;

    // The VM of `kernel` as recorded (pid set only when its QEMU runs).
    [[nodiscard]] VmRecord load(const LabKernel& kernel) const;
    // Every VM folder there is, in the kernel table's order.
    [[nodiscard]] std::vector<VmRecord> load_all() const;
    // Records port, boot time and accelerator after a boot.
    Result<void> save_state(const VmRecord& vm) const;
    // Forgets a VM's run (pid file and state), keeping its image and keys.
    void forget_run(const VmRecord& vm) const;

    // Rewrites known_hosts and inventory.toml for `up` (VMs that answered);
    // with none, removes both.
    Result<void> write_inventory(const std::vector<VmRecord>& up) const;

private:
    LabDir(std::filesystem::path path, Fd lock)
        : m_path(std::move(path)), m_lock(std::move(lock)) {}

    std::filesystem::path m_path;
    Fd m_lock;
};

// The inventory text for `up` (paths relative to the inventory's folder).
std::string inventory_text(const std::vector<VmRecord>& up);

// Default folders: $BPFLEET_LAB_DIR or $XDG_STATE_HOME/bpfleet/lab
// (~/.local/state/bpfleet/lab); $BPFLEET_LAB_CACHE or $XDG_CACHE_HOME/bpfleet/lab
// (~/.cache/bpfleet/lab).
std::filesystem::path default_lab_dir();
std::filesystem::path default_lab_cache();

} // namespace bpfleet::lab
