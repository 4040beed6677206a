/* A CO-RE read of a task_struct field that no kernel has. */
#include "bpfleet_test.h"

struct task_struct {
    int bpfleet_field_that_does_not_exist;
} __attribute__((preserve_access_index));

SEC("raw_tracepoint/sys_enter")
int core_read_missing(void *ctx)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    int value = BPF_CORE_READ(task, bpfleet_field_that_does_not_exist);
    return value;
}
