/* Every program needs kprobes: on a kernel without them all fail to attach,
 * each with its own verdict. */
#include "bpfleet_test.h"

SEC("kprobe/__x64_sys_getpid")
int kp_getpid(void *ctx)
{
    return 0;
}

SEC("kretprobe/__x64_sys_getppid")
int krp_getppid(void *ctx)
{
    return 0;
}
