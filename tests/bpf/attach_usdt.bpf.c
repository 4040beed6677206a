/* A USDT program with no target: attached to the agent's own probe. */
#include <stdbool.h>
#include <asm/ptrace.h>
#include "bpfleet_test.h"
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

SEC("usdt")
int BPF_USDT(usdt_default, int value)
{
    return value;
}
