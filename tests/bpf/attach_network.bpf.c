/* One program per network attach strategy, all attached inside the
 * sandbox's private network namespace. */
#include "bpfleet_test.h"
#include <linux/pkt_cls.h>

SEC("tc")
int tc_ingress(struct __sk_buff *skb)
{
    return TC_ACT_OK;
}

SEC("classifier/egress/count")
int tc_egress(struct __sk_buff *skb)
{
    return TC_ACT_OK;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
    return XDP_PASS;
}

SEC("socket")
int socket_filter(struct __sk_buff *skb)
{
    return skb->len;
}

SEC("sk_lookup")
int sk_lookup_pass(struct bpf_sk_lookup *ctx)
{
    return SK_PASS;
}

SEC("flow_dissector")
int flow_dissector_pass(struct __sk_buff *skb)
{
    return BPF_OK;
}

SEC("sk_skb/stream_verdict")
int sk_skb_verdict(struct __sk_buff *skb)
{
    return SK_PASS;
}

SEC("sk_msg")
int sk_msg_verdict(struct sk_msg_md *msg)
{
    return SK_PASS;
}

SEC("perf_event")
int perf_event_clock(void *ctx)
{
    return 0;
}
