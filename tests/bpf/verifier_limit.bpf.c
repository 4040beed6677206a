/* A loop the verifier has to walk iteration by iteration until it gives up at
 * its instruction limit (RESOURCE_LIMIT): loading it keeps the kernel busy for
 * seconds, which the --timeout tests rely on. */
#include "bpfleet_test.h"

SEC("xdp")
int xdp_walks_forever(struct xdp_md *ctx)
{
    __u64 acc = ctx->ingress_ifindex;
    for (__u32 i = 0; i < (1u << 24); i++)
        acc = acc * 31 + i;
    return acc ? XDP_PASS : XDP_DROP;
}
