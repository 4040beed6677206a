/* Reads packet data without a bounds check: every verifier rejects it. */
#include "bpfleet_test.h"

SEC("xdp")
int xdp_unchecked_read(struct xdp_md *ctx)
{
    unsigned char *data = (unsigned char *)(long)ctx->data;
    return data[20] == 0x45 ? XDP_DROP : XDP_PASS;
}
