/* One program per cgroup attach type, attached to a throwaway cgroup. */
#include "bpfleet_test.h"

SEC("cgroup_skb/ingress")
int cgroup_skb_ingress(struct __sk_buff *skb)
{
    return 1;
}

SEC("cgroup_skb/egress")
int cgroup_skb_egress(struct __sk_buff *skb)
{
    return 1;
}

SEC("cgroup/sock_create")
int cgroup_sock_create(struct bpf_sock *sk)
{
    return 1;
}

SEC("cgroup/connect4")
int cgroup_connect4(struct bpf_sock_addr *ctx)
{
    return 1;
}

SEC("cgroup/getsockopt")
int cgroup_getsockopt(struct bpf_sockopt *ctx)
{
    return 1;
}

SEC("cgroup/sysctl")
int cgroup_sysctl(struct bpf_sysctl *ctx)
{
    return 1;
}

SEC("cgroup/dev")
int cgroup_dev(struct bpf_cgroup_dev_ctx *ctx)
{
    return 1;
}

SEC("sockops")
int sockops_established(struct bpf_sock_ops *ctx)
{
    return 1;
}
