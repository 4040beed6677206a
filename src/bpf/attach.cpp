#include "bpf/attach.hpp"

#include "bpf/libbpf_log.hpp"
#include "common/fd.hpp"
#include "common/subprocess.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <link.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/perf_event.h>
#include <memory>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/sdt.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <vector>

namespace bpfleet {

extern "C" __attribute__((noinline, used)) void bpfleet_uprobe_target(int value) {
    // Kept out of line and observable so that the compiler cannot drop it.
    asm volatile("" : : "r"(value) : "memory");
}

extern "C" __attribute__((noinline, used)) void bpfleet_usdt_target(int value) {
    // The agent's own USDT probe (provider "bpfleet", name "trigger"): the
    // default target of usdt programs whose section names none.
    STAP_PROBE1(bpfleet, trigger, value);
}

namespace {

constexpr int kENOTSUPP = 524;

struct LinkDeleter {
    void operator()(bpf_link* l) const { bpf_link__destroy(l); }
};
using LinkPtr = std::unique_ptr<bpf_link, LinkDeleter>;

// What an attach made: released in reverse order when the check of the
// program ends (the process's exit would release them too).
struct Attachment {
    LinkPtr link;
    std::vector<Fd> fds;
    std::function<void()> detach; // extra clean-up (tc filter, legacy attach)
    std::function<void()> trigger;
    std::string target;
    ~Attachment() {
        if (detach) {
            detach();
        }
    }
};

struct AttachError {
    int errnum = 0;
    std::string message;
    std::vector<std::string> libbpf_messages;
};

using AttachResult = tl::expected<std::unique_ptr<Attachment>, AttachError>;

AttachError attach_error(int err, std::string message, LibbpfLogCapture* capture = nullptr) {
    AttachError e;
    e.errnum = err < 0 ? -err : err;
    e.message = std::move(message);
    if (capture) {
        e.libbpf_messages = capture->take();
    }
    return e;
}

// ---- workloads -----------------------------------------------------------

void syscall_workload() {
    syscall(SYS_getpid);
    syscall(SYS_getppid);
    if (int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC); fd >= 0) {
        char buf[256];
        ssize_t ignored = read(fd, buf, sizeof buf);
        (void)ignored;
        close(fd);
    }
    if (int fd = open("/dev/null", O_WRONLY | O_CLOEXEC); fd >= 0) {
        ssize_t ignored = write(fd, "bpfleet", 7);
        (void)ignored;
        close(fd);
    }
    timespec ts{0, 1000000};
    nanosleep(&ts, nullptr);
    sched_yield();
    if (int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); s >= 0) {
        close(s);
    }
    // A child that starts and ends: process fork and exit hooks fire.
    if (auto child = Process::fork_call([] { return 0; })) {
        child->wait();
    }
}

struct TcpPair {
    Fd listener;
    Fd client;
    Fd server; // -1 when the connection did not complete in time
};

// A TCP connection to a listener on 127.0.0.1, made without ever blocking for
// more than ~200 ms: the programs under test may drop or refuse the packets.
TcpPair tcp_pair_on_lo() {
    TcpPair pair;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    pair.listener = Fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (pair.listener.get() < 0 ||
        bind(pair.listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(pair.listener.get(), 4) != 0 ||
        getsockname(pair.listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        return pair;
    }
    pair.client = Fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (pair.client.get() < 0) {
        return pair;
    }
    if (connect(pair.client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
        errno != EINPROGRESS) {
        return pair;
    }
    pollfd p{pair.client.get(), POLLOUT, 0};
    if (poll(&p, 1, 200) != 1) {
        return pair;
    }
    int err = 0;
    socklen_t elen = sizeof err;
    getsockopt(pair.client.get(), SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err != 0) {
        return pair;
    }
    pollfd a{pair.listener.get(), POLLIN, 0};
    if (poll(&a, 1, 200) == 1) {
        pair.server =
            Fd(accept4(pair.listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    }
    return pair;
}

// UDP to itself on lo, a TCP connection on lo, socket options, a sysctl read
// and a device open: what network-side and cgroup programs see.
void network_workload() {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    Fd udp(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (udp.get() >= 0 && bind(udp.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        getsockname(udp.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
        connect(udp.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        for (int i = 0; i < 4; ++i) {
            ssize_t ignored = send(udp.get(), "bpfleet", 7, 0);
            (void)ignored;
        }
        char buf[64];
        for (int i = 0; i < 4; ++i) {
            ssize_t ignored = recv(udp.get(), buf, sizeof buf, MSG_DONTWAIT);
            (void)ignored;
        }
    }
    {
        // A program may drop the SYN (an XDP filter, a cgroup deny): never block on it.
        TcpPair pair = tcp_pair_on_lo();
        if (pair.client.get() >= 0) {
            int one = 1;
            setsockopt(pair.client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            int value = 0;
            socklen_t vlen = sizeof value;
            getsockopt(pair.client.get(), SOL_SOCKET, SO_RCVBUF, &value, &vlen);
            ssize_t ignored = send(pair.client.get(), "bpfleet", 7, MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)ignored;
            char buf[64];
            ignored = recv(pair.server.get(), buf, sizeof buf, MSG_DONTWAIT);
        }
    }
    if (int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY | O_CLOEXEC); fd >= 0) {
        char buf[16];
        ssize_t ignored = read(fd, buf, sizeof buf);
        (void)ignored;
        close(fd);
    }
    if (int fd = open("/dev/null", O_RDONLY | O_CLOEXEC); fd >= 0) {
        close(fd);
    }
}

// The flow dissector runs when the kernel needs a packet's hash; a packet
// socket with hash fanout on lo asks for it for every packet there.
void flow_dissector_workload() {
    Fd packet(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)));
    if (packet.get() >= 0) {
        sockaddr_ll ll{};
        ll.sll_family = AF_PACKET;
        ll.sll_protocol = htons(ETH_P_ALL);
        ll.sll_ifindex = static_cast<int>(if_nametoindex("lo"));
        if (bind(packet.get(), reinterpret_cast<sockaddr*>(&ll), sizeof ll) == 0) {
            int fanout = (getpid() & 0xffff) | (PACKET_FANOUT_HASH << 16);
            setsockopt(packet.get(), SOL_PACKET, PACKET_FANOUT, &fanout, sizeof fanout);
        }
    }
    network_workload();
}

void cpu_workload() {
    using namespace std::chrono;
    const auto end = steady_clock::now() + milliseconds(20);
    volatile std::uint64_t x = 0;
    while (steady_clock::now() < end) {
        for (int i = 0; i < 10000; ++i) {
            x = x + static_cast<std::uint64_t>(i);
        }
    }
}

std::string read_kallsyms_candidate(const std::vector<std::string>& names) {
    FILE* f = std::fopen("/proc/kallsyms", "re");
    if (!f) {
        return {};
    }
    char line[512];
    std::string found;
    std::size_t best = names.size();
    while (std::fgets(line, sizeof line, f)) {
        char type;
        char sym[256];
        if (std::sscanf(line, "%*s %c %255s", &type, sym) != 2) {
            continue;
        }
        for (std::size_t i = 0; i < best; ++i) {
            if (names[i] == sym) {
                found = sym;
                best = i;
                break;
            }
        }
    }
    std::fclose(f);
    return found;
}

// File offset of a function of this executable, for uprobes on a stripped,
// possibly static binary (libbpf cannot resolve names without a symtab).
std::optional<std::uint64_t> own_function_offset(const void* fn) {
    struct Search {
        std::uintptr_t addr;
        std::optional<std::uint64_t> offset;
    } search{reinterpret_cast<std::uintptr_t>(fn), std::nullopt};
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) -> int {
            auto* s = static_cast<Search*>(data);
            const std::uintptr_t vaddr = s->addr - info->dlpi_addr;
            for (int i = 0; i < info->dlpi_phnum; ++i) {
                const auto& ph = info->dlpi_phdr[i];
                if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) && vaddr >= ph.p_vaddr &&
                    vaddr < ph.p_vaddr + ph.p_memsz) {
                    s->offset = vaddr - ph.p_vaddr + ph.p_offset;
                }
            }
            return 1; // the executable is first
        },
        &search);
    return search.offset;
}

std::string section_target(const char* section) {
    std::string_view s = section ? section : "";
    auto pos = s.find('/');
    return pos == std::string_view::npos ? std::string() : std::string(s.substr(pos + 1));
}

// ---- strategies ------------------------------------------------------------

AttachResult attach_auto(bpf_program* prog, const AttachPlan& plan, std::function<void()> trigger) {
    LibbpfLogCapture capture;
    bpf_link* link = bpf_program__attach(prog);
    if (!link) {
        int err = errno;
        return tl::unexpected(
            attach_error(err,
                         "libbpf could not attach the program to " +
                             (plan.target.empty() ? std::string("its section's target")
                                                  : "'" + plan.target + "'"),
                         &capture));
    }
    auto a = std::make_unique<Attachment>();
    a->link.reset(link);
    a->trigger = std::move(trigger);
    a->target = plan.target;
    return a;
}

AttachResult attach_tracepoint(bpf_program* prog, const AttachPlan& plan) {
    auto slash = plan.target.find('/');
    if (slash == std::string::npos) {
        return tl::unexpected(attach_error(EINVAL, "tracepoint section '" + plan.target +
                                                       "' names no CATEGORY/NAME"));
    }
    LibbpfLogCapture capture;
    bpf_link* link = bpf_program__attach_tracepoint(prog, plan.target.substr(0, slash).c_str(),
                                                    plan.target.substr(slash + 1).c_str());
    if (!link) {
        int err = errno;
        return tl::unexpected(
            attach_error(err, "cannot attach to tracepoint '" + plan.target + "'", &capture));
    }
    auto a = std::make_unique<Attachment>();
    a->link.reset(link);
    a->trigger = syscall_workload;
    a->target = "tracepoint " + plan.target;
    return a;
}

AttachResult attach_raw_tracepoint(bpf_program* prog, const AttachPlan& plan) {
    LibbpfLogCapture capture;
    bpf_link* link = bpf_program__attach_raw_tracepoint(prog, plan.target.c_str());
    if (!link) {
        int err = errno;
        return tl::unexpected(
            attach_error(err, "cannot attach to raw tracepoint '" + plan.target + "'", &capture));
    }
    auto a = std::make_unique<Attachment>();
    a->link.reset(link);
    a->trigger = syscall_workload;
    a->target = "raw tracepoint " + plan.target;
    return a;
}

AttachResult attach_kprobe(bpf_program* prog, const AttachPlan& plan, const char* section) {
    std::string_view sec = section;
    const bool ret = sec.starts_with("kretprobe");
    const bool syscall_sec = sec.starts_with("ksyscall") || sec.starts_with("kretsyscall");
    if (!plan.target.empty() || syscall_sec) {
        return attach_auto(prog, plan, syscall_workload);
    }
    // A placeholder section: pick a function the syscall workload reaches.
    std::string symbol =
        read_kallsyms_candidate({"__x64_sys_getpid", "__arm64_sys_getpid", "__se_sys_getpid",
                                 "sys_getpid", "__do_sys_getpid", "do_sys_openat2", "vfs_read"});
    if (symbol.empty()) {
        return tl::unexpected(attach_error(
            ENOENT, "placeholder kprobe section: no known function found in /proc/kallsyms"));
    }
    LibbpfLogCapture capture;
    LIBBPF_OPTS(bpf_kprobe_opts, opts, .retprobe = ret);
    bpf_link* link = bpf_program__attach_kprobe_opts(prog, symbol.c_str(), &opts);
    if (!link) {
        int err = errno;
        return tl::unexpected(
            attach_error(err, "cannot attach a kprobe to '" + symbol + "'", &capture));
    }
    auto a = std::make_unique<Attachment>();
    a->link.reset(link);
    a->trigger = syscall_workload;
    a->target = std::string(ret ? "kretprobe " : "kprobe ") + symbol + " (placeholder section)";
    return a;
}

AttachResult attach_uprobe(bpf_program* prog, const AttachPlan& plan, const char* section) {
    std::string_view sec = section;
    const bool ret = sec.starts_with("uretprobe");
    // A full path: the object names its own target; attach there, nothing here triggers it.
    if (!plan.target.empty() && plan.target.front() == '/') {
        return attach_auto(prog, plan, nullptr);
    }
    auto offset = own_function_offset(reinterpret_cast<const void*>(&bpfleet_uprobe_target));
    if (!offset) {
        return tl::unexpected(
            attach_error(ENOENT, "cannot find the agent's own probe function in its binary"));
    }
    LibbpfLogCapture capture;
    LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret);
    bpf_link* link =
        bpf_program__attach_uprobe_opts(prog, getpid(), "/proc/self/exe", *offset, &opts);
    if (!link) {
        int err = errno;
        return tl::unexpected(
            attach_error(err, "cannot attach a uprobe to the agent's own binary", &capture));
    }
    auto a = std::make_unique<Attachment>();
    a->link.reset(link);
    a->trigger = [] {
        for (int i = 0; i < 4; ++i) {
            bpfleet_uprobe_target(i);
        }
    };
    a->target = std::string(ret ? "uretprobe" : "uprobe") +
                " on the agent's bpfleet_uprobe_target" +
                (plan.target.empty() ? "" : " (section names '" + plan.target + "')");
    return a;
}

AttachResult attach_usdt(bpf_program* prog, const AttachPlan& plan) {
    // "usdt/PATH:PROVIDER:NAME" with an absolute path: the object's own target.
    if (!plan.target.empty() && plan.target.front() == '/') {
        return attach_auto(prog, plan, nullptr);
    }
    LibbpfLogCapture capture;
    bpf_link* link =
        bpf_program__attach_usdt(prog, getpid(), "/proc/self/exe", "bpfleet", "trigger", nullptr);
    if (!link) {
        int err = errno;
        return tl::unexpected(
            attach_error(err, "cannot attach to the agent's own USDT probe", &capture));
    }
    auto a = std::make_unique<Attachment>();
    a->link.reset(link);
    a->trigger = [] {
        for (int i = 0; i < 4; ++i) {
            bpfleet_usdt_target(i);
        }
    };
    a->target = "USDT bpfleet:trigger in the agent" +
                (plan.target.empty() ? std::string() : " (section names '" + plan.target + "')");
    return a;
}

AttachResult attach_iter(bpf_program* prog, const AttachPlan& plan) {
    LibbpfLogCapture capture;
    bpf_link* link = bpf_program__attach_iter(prog, nullptr);
    if (!link) {
        int err = errno;
        return tl::unexpected(
            attach_error(err, "cannot attach iterator '" + plan.target + "'", &capture));
    }
    auto a = std::make_unique<Attachment>();
    a->link.reset(link);
    int link_fd = bpf_link__fd(link);
    a->trigger = [link_fd] {
        Fd iter(bpf_iter_create(link_fd));
        if (iter.get() < 0) {
            return;
        }
        char buf[4096];
        std::size_t total = 0;
        ssize_t n;
        while ((n = read(iter.get(), buf, sizeof buf)) > 0 && total < (1 << 20)) {
            total += static_cast<std::size_t>(n);
        }
    };
    a->target = "iterator " + plan.target;
    return a;
}

AttachResult attach_socket_filter(bpf_program* prog) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) != 0) {
        return tl::unexpected(attach_error(errno, "socketpair failed"));
    }
    auto a = std::make_unique<Attachment>();
    a->fds.emplace_back(pair[0]);
    a->fds.emplace_back(pair[1]);
    int prog_fd = bpf_program__fd(prog);
    if (setsockopt(pair[1], SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof prog_fd) != 0) {
        return tl::unexpected(attach_error(errno, "setsockopt(SO_ATTACH_BPF) failed"));
    }
    int tx = pair[0];
    int rx = pair[1];
    a->trigger = [tx, rx] {
        for (int i = 0; i < 4; ++i) {
            ssize_t ignored = send(tx, "bpfleet", 7, MSG_DONTWAIT);
            (void)ignored;
            char buf[64];
            ignored = recv(rx, buf, sizeof buf, MSG_DONTWAIT);
        }
    };
    a->target = "a unix datagram socketpair";
    return a;
}

AttachResult attach_tc(bpf_program* prog, const AttachPlan& plan, const AttachEnv& env) {
    LibbpfLogCapture capture;
    auto hook = std::make_shared<bpf_tc_hook>();
    std::memset(hook.get(), 0, sizeof *hook);
    hook->sz = sizeof *hook;
    hook->ifindex = env.lo_ifindex;
    hook->attach_point = plan.egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
    int err = bpf_tc_hook_create(hook.get());
    if (err && err != -EEXIST) {
        return tl::unexpected(attach_error(err, "cannot create a clsact qdisc on lo", &capture));
    }
    LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(prog));
    err = bpf_tc_attach(hook.get(), &opts);
    if (err) {
        return tl::unexpected(attach_error(err, "cannot attach the tc program on lo", &capture));
    }
    auto a = std::make_unique<Attachment>();
    a->detach = [hook] {
        hook->attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
        bpf_tc_hook_destroy(hook.get());
    };
    a->trigger = network_workload;
    a->target = plan.target;
    return a;
}

AttachResult attach_xdp(bpf_program* prog, const AttachPlan& plan, const AttachEnv& env) {
    LibbpfLogCapture capture;
    bpf_link* link = bpf_program__attach_xdp(prog, env.lo_ifindex);
    auto a = std::make_unique<Attachment>();
    if (link) {
        a->link.reset(link);
    } else {
        // Kernels before 5.9 have no XDP links: a netlink attach, in generic
        // mode, on the sandbox's own lo (gone with its namespace).
        int link_err = errno;
        int ifindex = env.lo_ifindex;
        int err = bpf_xdp_attach(ifindex, bpf_program__fd(prog), XDP_FLAGS_SKB_MODE, nullptr);
        if (err) {
            (void)link_err;
            return tl::unexpected(
                attach_error(err, "cannot attach the XDP program to lo", &capture));
        }
        a->detach = [ifindex] { bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, nullptr); };
    }
    a->trigger = network_workload;
    a->target = plan.target;
    return a;
}

AttachResult attach_cgroup(bpf_program* prog, const AttachPlan& plan, const AttachEnv& env) {
    Fd cg(open(env.cgroup->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (cg.get() < 0) {
        return tl::unexpected(attach_error(errno, "cannot open the scratch cgroup"));
    }
    LibbpfLogCapture capture;
    auto a = std::make_unique<Attachment>();
    bpf_link* link = bpf_program__attach_cgroup(prog, cg.get());
    if (link) {
        a->link.reset(link);
    } else {
        // Before 5.7: a legacy attach, which dies with the scratch cgroup.
        int prog_fd = bpf_program__fd(prog);
        auto type = bpf_program__expected_attach_type(prog);
        if (bpf_prog_attach(prog_fd, cg.get(), type, 0) != 0) {
            int err = errno;
            return tl::unexpected(
                attach_error(err, "cannot attach the program to a cgroup", &capture));
        }
        int cg_fd = cg.get();
        a->detach = [prog_fd, cg_fd, type] { bpf_prog_detach2(prog_fd, cg_fd, type); };
    }
    const ScratchCgroup* cgroup = env.cgroup;
    a->trigger = [cgroup] {
        if (cgroup->join()) {
            network_workload();
            (void)cgroup->leave();
        }
    };
    a->target = plan.target + " (" + env.cgroup->path() + ")";
    a->fds.push_back(std::move(cg));
    return a;
}

AttachResult attach_sockmap(bpf_program* prog, const AttachPlan& plan, bool msg) {
    Fd map(bpf_map_create(BPF_MAP_TYPE_SOCKMAP, "bpfleet_sockmap", 4, 4, 2, nullptr));
    if (map.get() < 0) {
        return tl::unexpected(attach_error(errno, "cannot create a scratch sockmap"));
    }
    auto type = bpf_program__expected_attach_type(prog);
    if (!msg && type != BPF_SK_SKB_STREAM_PARSER && type != BPF_SK_SKB_STREAM_VERDICT &&
        type != BPF_SK_SKB_VERDICT) {
        type = BPF_SK_SKB_STREAM_VERDICT;
    }
    if (msg) {
        type = BPF_SK_MSG_VERDICT;
    }
    if (bpf_prog_attach(bpf_program__fd(prog), map.get(), type, 0) != 0) {
        return tl::unexpected(attach_error(errno, "cannot attach the program to a sockmap"));
    }
    auto a = std::make_unique<Attachment>();
    int map_fd = map.get();
    a->fds.push_back(std::move(map));
    a->trigger = [map_fd] {
        TcpPair pair = tcp_pair_on_lo();
        if (pair.server.get() < 0) {
            return;
        }
        Fd& server = pair.server;
        Fd& client = pair.client;
        std::uint32_t k0 = 0;
        std::uint32_t k1 = 1;
        std::uint32_t v0 = static_cast<std::uint32_t>(server.get());
        std::uint32_t v1 = static_cast<std::uint32_t>(client.get());
        bpf_map_update_elem(map_fd, &k0, &v0, BPF_ANY);
        bpf_map_update_elem(map_fd, &k1, &v1, BPF_ANY);
        ssize_t ignored = send(client.get(), "bpfleet", 7, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)ignored;
        char buf[64];
        ignored = recv(server.get(), buf, sizeof buf, MSG_DONTWAIT);
        bpf_map_delete_elem(map_fd, &k0);
        bpf_map_delete_elem(map_fd, &k1);
    };
    a->target = plan.target;
    return a;
}

AttachResult attach_netns(bpf_program* prog, const AttachPlan& plan,
                          std::function<void()> trigger) {
    Fd ns(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    if (ns.get() < 0) {
        return tl::unexpected(attach_error(errno, "cannot open the sandbox's network namespace"));
    }
    LibbpfLogCapture capture;
    bpf_link* link = bpf_program__attach_netns(prog, ns.get());
    if (!link) {
        int err = errno;
        return tl::unexpected(
            attach_error(err, "cannot attach the program to the network namespace", &capture));
    }
    auto a = std::make_unique<Attachment>();
    a->link.reset(link);
    a->fds.push_back(std::move(ns));
    a->trigger = std::move(trigger);
    a->target = plan.target;
    return a;
}

AttachResult attach_perf_event(bpf_program* prog, const AttachPlan& plan) {
    perf_event_attr attr{};
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.freq = 1;
    attr.sample_freq = 10000;
    int pfd =
        static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
    if (pfd < 0) {
        return tl::unexpected(attach_error(errno, "perf_event_open(cpu-clock) failed"));
    }
    LibbpfLogCapture capture;
    bpf_link* link = bpf_program__attach_perf_event(prog, pfd);
    if (!link) {
        int err = errno;
        close(pfd);
        return tl::unexpected(
            attach_error(err, "cannot attach the program to a perf event", &capture));
    }
    auto a = std::make_unique<Attachment>();
    a->link.reset(link); // the link owns pfd
    a->trigger = cpu_workload;
    a->target = plan.target;
    return a;
}

AttachResult do_attach(bpf_program* prog, const AttachPlan& plan, const AttachEnv& env) {
    const char* section = bpf_program__section_name(prog);
    switch (plan.kind) {
    case AttachKind::Tracepoint:
        return attach_tracepoint(prog, plan);
    case AttachKind::RawTracepoint:
        return attach_raw_tracepoint(prog, plan);
    case AttachKind::TpBtf:
    case AttachKind::Trampoline:
    case AttachKind::Lsm:
    case AttachKind::KprobeMulti:
        return attach_auto(prog, plan, syscall_workload);
    case AttachKind::Usdt:
        return attach_usdt(prog, plan);
    case AttachKind::Kprobe:
        return attach_kprobe(prog, plan, section);
    case AttachKind::Uprobe:
        return attach_uprobe(prog, plan, section);
    case AttachKind::Iter:
        return attach_iter(prog, plan);
    case AttachKind::SocketFilter:
        return attach_socket_filter(prog);
    case AttachKind::Tc:
        return attach_tc(prog, plan, env);
    case AttachKind::Xdp:
        return attach_xdp(prog, plan, env);
    case AttachKind::Cgroup:
        return attach_cgroup(prog, plan, env);
    case AttachKind::SkSkb:
        return attach_sockmap(prog, plan, false);
    case AttachKind::SkMsg:
        return attach_sockmap(prog, plan, true);
    case AttachKind::SkLookup:
        return attach_netns(prog, plan, network_workload);
    case AttachKind::FlowDissector:
        return attach_netns(prog, plan, flow_dissector_workload);
    case AttachKind::PerfEvent:
        return attach_perf_event(prog, plan);
    case AttachKind::Skip:
        break;
    }
    return tl::unexpected(attach_error(EOPNOTSUPP, "no attach strategy"));
}

} // namespace

RunStats::RunStats() {
    m_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (m_fd < 0) {
        m_error =
            std::string("BPF_ENABLE_STATS failed (kernel before 5.8?): ") + std::strerror(errno);
    }
}

RunStats::~RunStats() {
    if (m_fd >= 0) {
        close(m_fd);
    }
}

std::optional<std::uint64_t> program_run_count(int prog_fd) {
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) {
        return std::nullopt;
    }
    return info.run_cnt;
}

AttachFireResult attach_and_fire(bpf_program* prog, const AttachEnv& env) {
    AttachFireResult r;
    const char* section = bpf_program__section_name(prog);
    AttachPlan plan = plan_attach(section ? section : "", bpf_program__type(prog),
                                  bpf_program__expected_attach_type(prog));
    if (plan.kind == AttachKind::Tracepoint || plan.kind == AttachKind::RawTracepoint ||
        plan.kind == AttachKind::Kprobe) {
        // plan_attach's defaults are for bare sections; keep the named target.
        std::string named = section_target(section);
        if (plan.kind == AttachKind::Kprobe) {
            plan.target = named;
        } else if (!named.empty()) {
            plan.target = named;
        }
    }
    r.attach.strategy = std::string(to_string(plan.kind));
    r.fire.trigger = plan.trigger;
    if (plan.kind == AttachKind::Skip) {
        r.attach.verdict = Verdict::Skip;
        r.attach.message = plan.skip_reason;
        r.fire.verdict = Verdict::Skip;
        r.fire.message = "not attached";
        return r;
    }
    if (plan.kind == AttachKind::Cgroup && !env.cgroup) {
        r.attach.verdict = Verdict::Skip;
        r.attach.message = "no scratch cgroup could be made on this host";
        r.fire.verdict = Verdict::Skip;
        r.fire.message = "not attached";
        return r;
    }

    auto attached = do_attach(prog, plan, env);
    if (!attached) {
        const AttachError& e = attached.error();
        AttachFailure failure;
        failure.errnum = e.errnum;
        failure.strategy = r.attach.strategy;
        failure.message = e.message;
        failure.libbpf_messages = e.libbpf_messages;
        auto c = classify_attach_failure(failure, env.host);
        r.attach.verdict = Verdict::Fail;
        r.attach.target = plan.target;
        r.attach.code = c.code;
        r.attach.errnum = e.errnum;
        r.attach.message = e.message;
        r.attach.evidence = c.evidence;
        r.attach.hint = c.hint;
        r.attach.libbpf_messages = e.libbpf_messages;
        r.fire.verdict = Verdict::Skip;
        r.fire.message = "not attached";
        return r;
    }
    auto& a = **attached;
    r.attach.verdict = Verdict::Pass;
    r.attach.target = a.target;

    if (!env.fire) {
        r.fire.verdict = Verdict::Skip;
        r.fire.message = "--no-fire: programs were attached but not triggered";
        return r;
    }
    if (!a.trigger) {
        r.fire.verdict = Verdict::Skip;
        r.fire.message = "the program attaches to another binary; bpfleet cannot trigger it";
        r.fire.trigger.clear();
        r.fire.trigger = "none";
        return r;
    }
    // Whether the trigger is made for this target, so that not firing means
    // something: every sandbox target, and the default tracing targets.
    const std::string named = section_target(section);
    bool aimed = true;
    switch (plan.kind) {
    case AttachKind::Tracepoint:
    case AttachKind::RawTracepoint:
        aimed = named.empty() || named == "syscalls/sys_enter_getpid" || named == "sys_enter" ||
                named == "sys_exit";
        break;
    case AttachKind::Kprobe:
        aimed = named.empty();
        break;
    case AttachKind::TpBtf:
        aimed = named == "sys_enter" || named == "sys_exit";
        break;
    case AttachKind::Trampoline:
    case AttachKind::Lsm:
    case AttachKind::KprobeMulti:
        aimed = false;
        break;
    default:
        break;
    }
    const int prog_fd = bpf_program__fd(prog);
    auto before = env.stats_enabled ? program_run_count(prog_fd) : std::nullopt;
    std::uint64_t runs = 0;
    bool counted = before.has_value();
    for (int round = 0; round < 5; ++round) {
        a.trigger();
        if (!counted) {
            break;
        }
        auto after = program_run_count(prog_fd);
        if (!after) {
            counted = false;
            break;
        }
        runs = *after - *before;
        if (runs > 0) {
            break;
        }
    }
    if (!counted) {
        r.fire.verdict = Verdict::Skip;
        r.fire.message =
            env.stats_enabled ? "the kernel does not report run counts" : env.stats_error;
        return r;
    }
    r.fire.fired = runs > 0;
    r.fire.run_count = runs;
    if (runs > 0) {
        r.fire.verdict = Verdict::Pass;
    } else if (!aimed) {
        // A target the object names itself (a kernel function, a tracepoint)
        // that the generic workload may simply not reach: not a failure.
        r.fire.verdict = Verdict::Skip;
        r.fire.message = "attached; the generic workload did not reach '" + plan.target +
                         "', so whether it fires here is unknown";
    } else {
        r.fire.verdict = Verdict::Fail;
        r.fire.code = FailureCode::NotFired;
        r.fire.message = "attached, triggered, and never ran";
        r.fire.evidence = "run_cnt stayed 0 after: " + plan.trigger;
        r.fire.hint = std::string(default_hint(FailureCode::NotFired));
    }
    return r;
}

} // namespace bpfleet
