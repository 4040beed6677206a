/* Fuzzing seed, never loaded: one object that takes libbpf's open path
 * through every kind of ELF and BTF content it parses (BTF maps, map-in-map
 * and prog-array initialisers, global data, Kconfig and ksym externs,
 * struct_ops, subprograms, CO-RE relocations, version), so that mutations of
 * it reach the code the test objects do not. */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";
__u32 VERSION SEC("version") = 0x060100;

struct inner {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct inner);
} outer SEC(".maps") = {
    .values = {&inner_a, &inner_b},
};

int tail_target(struct __sk_buff *skb);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, int(struct __sk_buff *));
} jumps SEC(".maps") = {
    .values = {[1] = &tail_target},
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8);
    __type(key, __u64);
    __type(value, __u32);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned SEC(".maps");

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig __weak;
extern const void bpf_prog_active __ksym __weak;
extern int bpf_fuzz_no_such_kfunc(int x) __ksym __weak;

int counter = 1;
const volatile int limit = 10;
__u64 scratch;
char label[16] SEC(".data.label") = "seed";

struct seed_task {
    int pid;
    int tgid;
} __attribute__((preserve_access_index));

static __attribute__((noinline)) int subprog(int x)
{
    return x * 2 + limit;
}

SEC("socket")
int tail_target(struct __sk_buff *skb)
{
    return skb->len;
}

SEC("socket")
int entry(struct __sk_buff *skb)
{
    __u32 key = 0;
    void *inner = bpf_map_lookup_elem(&outer, &key);
    scratch += LINUX_KERNEL_VERSION + CONFIG_HZ + counter + label[0];
    if (inner)
        scratch++;
    if (&bpf_prog_active)
        scratch++;
    if (bpf_fuzz_no_such_kfunc)
        scratch += bpf_fuzz_no_such_kfunc(1);
    bpf_tail_call(skb, &jumps, 1);
    return subprog(skb->len);
}

SEC("tp_btf/sched_switch")
int core_reader(__u64 *ctx)
{
    struct seed_task *t = (void *)ctx[1];
    return BPF_CORE_READ(t, pid) + bpf_core_field_exists(t->tgid);
}

struct seed_ops {
    int (*init)(void);
    int flags;
};

SEC("struct_ops/seed_init")
int seed_init(void)
{
    return 0;
}

SEC(".struct_ops")
struct seed_ops seed_ops_value = {
    .init = (void *)seed_init,
    .flags = 3,
};
