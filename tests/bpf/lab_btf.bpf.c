/* The lab's cross-kernel probe of what needs kernel BTF
 * (tests/lab/lab_matrix_test.cpp): libbpf refuses the whole object on a
 * kernel without /sys/kernel/btf/vmlinux, so these are apart from
 * lab_features.bpf.c. */
#include "bpfleet_test.h"
#include "lab_target.h"

/* A CO-RE read of task_struct.__state, the name the field has had since 5.14
 * (before: `state`). */
struct task_struct {
    unsigned int __state;
} __attribute__((preserve_access_index));

SEC("raw_tracepoint/sys_enter")
int core_task_state(void *ctx)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    return BPF_CORE_READ(task, __state) == 0x7fffffff + lab_target[0];
}

/* A BPF trampoline: kernel BTF, a JIT and the architecture's trampolines
 * (direct-call ftrace; on arm64 only from 6.4 on). */
SEC("fentry/vfs_read")
int fentry_vfs_read(void *ctx)
{
    return 0;
}
