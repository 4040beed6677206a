/* Maps declared with max_entries 0, sized by the loader at run time the way
 * Inspektor Gadget does: `sized` from the .rodata variable sized_max_entries,
 * `unsized` gets bpfleet's default. */
#include "bpfleet_test.h"

const volatile __u32 sized_max_entries = 256;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 0);
    __type(key, __u32);
    __type(value, __u64);
} sized SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 0);
    __type(key, __u32);
    __type(value, __u64);
} unsized SEC(".maps");

SEC("xdp")
int xdp_uses_zero_maps(struct xdp_md *ctx)
{
    __u32 key = sized_max_entries;
    __u64 one = 1;
    bpf_map_update_elem(&sized, &key, &one, BPF_ANY);
    bpf_map_update_elem(&unsized, &key, &one, BPF_ANY);
    return XDP_PASS;
}
