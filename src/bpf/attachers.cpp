#include "bpf/attachers.hpp"

#include "bpf/attach_targets.hpp"
#include "bpf/attach_workloads.hpp"
#include "bpf/libbpf_log.hpp"
#include "bpf/object.hpp"

#include <bpf/bpf.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/perf_event.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bpfleet::bpf {
namespace {

AttachError attach_error(int err, std::string message, LibbpfLogCapture* capture = nullptr) {
    AttachError e;
    e.errnum = err < 0 ? -err : err;
    e.message = std::move(message);
    if (capture) {
        e.libbpf_messages = capture->take();
    }
    return e;
}

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
    auto opts = libbpf_opts<bpf_kprobe_opts>();
    opts.retprobe = ret;
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
    auto opts = libbpf_opts<bpf_uprobe_opts>();
    opts.retprobe = ret;
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
    auto opts = libbpf_opts<bpf_tc_opts>();
    opts.prog_fd = bpf_program__fd(prog);
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

} // namespace

AttachResult attach_program(bpf_program* prog, const AttachPlan& plan, const AttachEnv& env) {
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

} // namespace bpfleet::bpf
