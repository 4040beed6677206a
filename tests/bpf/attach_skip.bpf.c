/* Program types that need a real subsystem: reported as skip, with why. */
#include "bpfleet_test.h"

SEC("lwt_in")
int lwt_in_pass(struct __sk_buff *skb)
{
    return BPF_OK;
}

SEC("sk_reuseport")
int reuseport_pass(struct sk_reuseport_md *ctx)
{
    return SK_PASS;
}
