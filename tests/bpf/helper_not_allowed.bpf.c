/* A socket filter calling bpf_redirect, a helper only tc and XDP programs may
 * use: refused for this program type on every kernel. */
#include "bpfleet_test.h"

SEC("socket")
int socket_redirects(struct __sk_buff *skb)
{
    return bpf_redirect(skb->ifindex, 0) == 7 ? 0 : skb->len;
}
