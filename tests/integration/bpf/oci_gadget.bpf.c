/* The object inside the test OCI images: compiled once per architecture, with
 * a program whose name says which one, so tests can tell the objects apart. */
#include "bpfleet_test.h"

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 0); /* sized by the loader, like gadget maps */
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

#if defined(__TARGET_ARCH_arm64)
SEC("raw_tracepoint/sys_enter")
int enter_arm64(void *ctx)
#else
SEC("raw_tracepoint/sys_enter")
int enter_x86(void *ctx)
#endif
{
    __u32 key = 0;
    __u64 *v = bpf_map_lookup_elem(&counters, &key);
    if (v)
        __sync_fetch_and_add(v, 1);
    return 0;
}

SEC("socket1")
int ig_socket(struct __sk_buff *skb)
{
    return 0;
}
