/* Pre-BTF map definitions in a "maps" section, which libbpf 1.0 dropped. */
#include "bpfleet_test.h"

struct legacy_map_def {
    unsigned int type;
    unsigned int key_size;
    unsigned int value_size;
    unsigned int max_entries;
    unsigned int map_flags;
};

struct legacy_map_def legacy_counts SEC("maps") = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(__u32),
    .value_size = sizeof(__u64),
    .max_entries = 1,
};

SEC("xdp")
int xdp_legacy(struct xdp_md *ctx)
{
    return XDP_PASS;
}
