// The sandbox a check attaches programs in, so that attaching on a
// production host never touches its real interfaces, cgroups or mounts:
//
//  * ScratchCgroup: a throwaway cgroup v2 directory, made by the supervising
//    process and removed by it, or by a CgroupReaper if the supervisor is
//    killed (a directory in cgroupfs is the one thing the kernel does not
//    free when a process dies).
//  * enter_private_namespaces(): a private network namespace (its lo up) and
//    a private mount namespace (tracefs mounted there if absent), entered by
//    the disposable process that runs the check: both vanish when it exits,
//    even on SIGKILL.
#pragma once

#include "common/fd.hpp"
#include "common/result.hpp"
#include "common/subprocess.hpp"

#include <string>
#include <sys/types.h>

namespace bpfleet::bpf {

// Where the unified (v2) cgroup hierarchy is mounted: "/sys/fs/cgroup" on
// pure v2 hosts, "/sys/fs/cgroup/unified" on hybrid ones; empty when none.
std::string find_cgroup2_mount();

class ScratchCgroup {
public:
    // Creates <cgroup2>/bpfleet-check.<pid>.<n>. When the host has no cgroup2
    // mount (pure v1), mounts one privately first (the caller must be in a
    // private mount namespace for that; see enter_private_mount_namespace()).
    static Result<ScratchCgroup> create();
    ScratchCgroup(ScratchCgroup&& other) noexcept;
    ScratchCgroup& operator=(ScratchCgroup&&) = delete;
    ScratchCgroup(const ScratchCgroup&) = delete;
    ~ScratchCgroup();

    const std::string& path() const { return m_path; }
    // The private cgroup2 mount point made on a v1-only host, else empty.
    const std::string& private_mount() const { return m_private_mount; }
    // Moves the calling process into the cgroup / back to where it was.
    Result<void> join() const;
    Result<void> leave() const;
    // Removes the directory now (retrying while exiting tasks drain).
    void remove();

private:
    ScratchCgroup(std::string path, std::string home, std::string private_mount) noexcept
        : m_path(std::move(path)), m_home(std::move(home)),
          m_private_mount(std::move(private_mount)) {}
    std::string m_path;
    std::string m_home; // the caller's own cgroup directory, to leave to
    std::string m_private_mount;
};

// Removes a scratch cgroup directory (retrying while exiting tasks drain),
// then unmounts and removes a private cgroup2 mount point if one was made.
void remove_scratch_cgroup(const std::string& dir, const std::string& private_mount);

// A small process, in its own session, that removes `cgroup_dir` once the
// process that started it is gone (even by SIGKILL): it waits for EOF on a
// pipe whose write end only the starter holds.
class CgroupReaper {
public:
    static Result<CgroupReaper> start(const ScratchCgroup& cgroup);
    CgroupReaper(CgroupReaper&& other) noexcept = default;
    CgroupReaper& operator=(CgroupReaper&&) = delete;
    CgroupReaper(const CgroupReaper&) = delete;
    // Closes the pipe: the reaper removes the directory (if still there) and
    // exits; waits for that.
    ~CgroupReaper();

private:
    CgroupReaper(Fd pipe, Process process) noexcept
        : m_pipe(std::move(pipe)), m_process(std::move(process)) {}
    Fd m_pipe; // the write end: the reaper's EOF
    Process m_process;
};

// Gives the calling process a private mount namespace (propagation private).
Result<void> enter_private_mount_namespace();

// Makes the kernel's BTF invisible to this process, as on a kernel built
// without it: an empty tmpfs over /sys/kernel/btf, /dev/null over the other
// places libbpf looks for a vmlinux (/boot/vmlinux-$(uname -r), ...). Only
// user space is fooled (the kernel keeps its BTF), which is what a test of
// the loader's side needs. The caller must be in a private mount namespace.
Result<void> hide_kernel_btf();

struct NamespaceInfo {
    bool tracefs_mounted_by_us = false;
    int lo_ifindex = 1;
};

// Private network + mount namespaces for the calling process, lo up, tracefs
// mounted if absent. Only for a disposable process: there is no way back.
Result<NamespaceInfo> enter_private_namespaces();

} // namespace bpfleet::bpf
