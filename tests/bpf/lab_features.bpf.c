/* The lab's cross-kernel probe of features that need no kernel BTF: each
 * program needs one thing some of the lab's kernels lack
 * (tests/lab/lab_matrix_test.cpp asserts what bpfleet reports for each, kernel
 * by kernel). No CO-RE and no trampoline here, so a kernel without BTF still
 * loads them (lab_btf.bpf.c has those), and no map type a kernel could lack
 * (lab_maps.bpf.c). */
#include "bpfleet_test.h"
#include "lab_target.h"

/* bpf_ktime_get_coarse_ns (helper 160, Linux 5.11). */
SEC("xdp")
int helper_coarse_ns(struct xdp_md *ctx)
{
    return bpf_ktime_get_coarse_ns() ? XDP_PASS : XDP_DROP;
}

/* bpf_loop (helper 181, Linux 5.17): its callback is a BPF function passed by
 * pointer, which the kernel only runs JIT-compiled ("callbacks are not allowed
 * in non-JITed programs"). */
static long count_step(__u32 index, void *ctx)
{
    (*(__u32 *)ctx)++;
    return 0;
}

SEC("xdp")
int loop_callback(struct xdp_md *ctx)
{
    __u32 steps = 0;
    bpf_loop(4, count_step, &steps, 0);
    return steps == 4 ? XDP_PASS : XDP_DROP;
}

/* BPF_PROG_TYPE_SYSCALL (5.14): run by a loader, never attached. */
SEC("syscall")
int syscall_prog(void *ctx)
{
    return lab_target[0];
}

/* Multi-kprobes (5.18, and CONFIG_FPROBE). */
SEC("kprobe.multi/vfs_read")
int kprobe_multi_vfs_read(void *ctx)
{
    return 0;
}

/* A plain kprobe on the same function: CONFIG_KPROBES is enough. */
SEC("kprobe/vfs_read")
int kprobe_vfs_read(void *ctx)
{
    return 0;
}
