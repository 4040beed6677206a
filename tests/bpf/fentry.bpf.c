/* A trampoline program: needs direct-call ftrace in the kernel. */
#include "bpfleet_test.h"

SEC("fentry/do_unlinkat")
int fentry_unlinkat(void *ctx)
{
    return 0;
}
