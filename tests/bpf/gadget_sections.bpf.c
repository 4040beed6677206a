/* Section names used by Inspektor Gadget that libbpf 1.x has no type for. */
#include "bpfleet_test.h"

SEC("socket1")
int ig_socket(struct __sk_buff *skb)
{
    return 0;
}

SEC("classifier/ingress/drop")
int ig_classifier(struct __sk_buff *skb)
{
    return 0;
}

SEC("perf_event/cpu_clock")
int ig_perf_event(void *ctx)
{
    return 0;
}
