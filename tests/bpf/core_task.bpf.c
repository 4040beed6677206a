/* A CO-RE program that loads on every kernel with BTF: it reads
 * task_struct.pid, a field every kernel has, so only the lack of kernel BTF
 * (and no external BTF given) can make it fail. */
#include "bpfleet_test.h"

struct task_struct {
    int pid;
} __attribute__((preserve_access_index));

SEC("raw_tracepoint/sys_enter")
int core_task_pid(void *ctx)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    return BPF_CORE_READ(task, pid) == 0;
}
