/* One good and one bad program in the same object: each gets its own verdict. */
#include "bpfleet_test.h"

SEC("xdp")
int good_pass(struct xdp_md *ctx)
{
    return XDP_PASS;
}

SEC("xdp")
int bad_unchecked(struct xdp_md *ctx)
{
    unsigned char *data = (unsigned char *)(long)ctx->data;
    return data[32] ? XDP_DROP : XDP_PASS;
}
