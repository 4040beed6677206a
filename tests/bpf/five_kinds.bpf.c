/* The five kinds a production check meets first: each must attach and fire. */
#include "bpfleet_test.h"
#include <linux/pkt_cls.h>

SEC("tracepoint/syscalls/sys_enter_getpid")
int five_tracepoint(void *ctx)
{
    return 0;
}

SEC("xdp")
int five_xdp(struct xdp_md *ctx)
{
    return XDP_PASS;
}

SEC("tc")
int five_tc(struct __sk_buff *skb)
{
    return TC_ACT_OK;
}

SEC("socket")
int five_socket(struct __sk_buff *skb)
{
    return skb->len;
}

SEC("cgroup_skb/egress")
int five_cgroup_skb(struct __sk_buff *skb)
{
    return 1;
}
