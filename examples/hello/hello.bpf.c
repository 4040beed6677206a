// SPDX-License-Identifier: GPL-2.0
/* The example artifact of bpfleet's README: a small object with the program
 * types a fleet check meets first (XDP, tc, socket filter, tracepoint), a map
 * sized by its loader at run time (max_entries 0 + .rodata), and an
 * Inspektor-Gadget-style section name. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 packets_max_entries = 64;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 0); /* sized from packets_max_entries, as a gadget loader would */
    __type(key, __u32);
    __type(value, __u64);
} packets SEC(".maps");

static __always_inline void count(__u32 key)
{
    __u64 one = 1, *value = bpf_map_lookup_elem(&packets, &key);
    if (value)
        __sync_fetch_and_add(value, 1);
    else
        bpf_map_update_elem(&packets, &key, &one, BPF_NOEXIST);
}

SEC("xdp")
int hello_xdp(struct xdp_md *ctx)
{
    count(ctx->ingress_ifindex);
    return XDP_PASS;
}

SEC("tc")
int hello_tc(struct __sk_buff *skb)
{
    count(skb->ifindex);
    return TC_ACT_OK;
}

SEC("socket1")
int hello_socket(struct __sk_buff *skb)
{
    return skb->len;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int hello_getpid(void *ctx)
{
    count(0);
    return 0;
}
