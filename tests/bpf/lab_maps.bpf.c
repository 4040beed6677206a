/* The lab's map-type probe (tests/lab/lab_matrix_test.cpp): a bloom filter
 * map (Linux 5.16). Maps are created when the object loads, so a kernel
 * without this map type fails every program of this object, and only these. */
#include "bpfleet_test.h"
#include "lab_target.h"

struct {
    __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
    __type(value, __u32);
    __uint(max_entries, 64);
} seen SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int bloom_check(void *ctx)
{
    __u32 pid = (__u32)bpf_get_current_pid_tgid() + lab_target[0];
    if (bpf_map_peek_elem(&seen, &pid) != 0) {
        bpf_map_push_elem(&seen, &pid, 0);
    }
    return 0;
}
