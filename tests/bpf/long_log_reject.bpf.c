/* A long straight-line program that the verifier walks instruction by
 * instruction (a long log at level 1) before it rejects an unchecked packet
 * read at the very end: the tail of the log holds the reason. */
#include "bpfleet_test.h"

SEC("xdp")
int xdp_long_then_bad(struct xdp_md *ctx)
{
    volatile __u64 acc = ctx->ingress_ifindex;
#pragma clang loop unroll(full)
    for (int i = 0; i < 400; i++)
        acc = acc * 31 + i;
    unsigned char *data = (unsigned char *)(long)ctx->data;
    return data[acc & 7] ? XDP_DROP : XDP_PASS;
}
