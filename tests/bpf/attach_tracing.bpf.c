/* One program per tracing attach strategy. On this project's CI kernel
 * (6.18, no kprobes, no direct-call ftrace) some fail with exact codes;
 * other kernels attach and fire them all. */
#include "bpfleet_test.h"
#include <bpf/bpf_tracing.h>

struct pt_regs;
struct task_struct;

SEC("raw_tp/sys_enter")
int raw_tp_sys_enter(void *ctx)
{
    return 0;
}

SEC("tp_btf/sys_enter")
int tp_btf_sys_enter(__u64 *ctx)
{
    return 0;
}

SEC("kprobe/__x64_sys_getpid")
int kprobe_named(void *ctx)
{
    return 0;
}

SEC("kprobe")
int kprobe_placeholder(void *ctx)
{
    return 0;
}

SEC("kretprobe")
int kretprobe_placeholder(void *ctx)
{
    return 0;
}

SEC("kprobe.multi/__x64_sys_getp*")
int kprobe_multi_getp(void *ctx)
{
    return 0;
}

SEC("uprobe")
int uprobe_default(void *ctx)
{
    return 0;
}

SEC("uretprobe/libc:malloc")
int uretprobe_short_lib(void *ctx)
{
    return 0;
}

SEC("iter/task")
int iter_task(void *ctx)
{
    return 0;
}

