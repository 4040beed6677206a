/* Programs that every kernel with BPF should load: the baseline. */
#include "bpfleet_test.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} counter SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
    __u32 key = 0;
    __u64 *value = bpf_map_lookup_elem(&counter, &key);
    if (value)
        __sync_fetch_and_add(value, 1);
    return XDP_PASS;
}

SEC("socket")
int socket_accept(struct __sk_buff *skb)
{
    return skb->len;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int tp_getpid(void *ctx)
{
    __u32 key = 0;
    __u64 *value = bpf_map_lookup_elem(&counter, &key);
    if (value)
        __sync_fetch_and_add(value, 1);
    return 0;
}
