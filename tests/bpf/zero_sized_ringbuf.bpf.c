/* A ring buffer with max_entries 0 and no .rodata size: only its real loader
 * knows the size, so bpfleet must not invent one (LOADER_CONTRACT). */
#include "bpfleet_test.h"

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 0);
} events SEC(".maps");

SEC("xdp")
int xdp_emits(struct xdp_md *ctx)
{
    __u32 *slot = bpf_ringbuf_reserve(&events, sizeof(__u32), 0);
    if (slot) {
        *slot = 1;
        bpf_ringbuf_submit(slot, 0);
    }
    return XDP_PASS;
}
