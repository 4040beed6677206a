#include "bpf/attach_workloads.hpp"

#include "bpf/attach.hpp"
#include "common/subprocess.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/sdt.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace bpfleet::bpf {

extern "C" __attribute__((noinline, used)) void bpfleet_uprobe_target(int value) {
    // Kept out of line and observable so that the compiler cannot drop it.
    asm volatile("" : : "r"(value) : "memory");
}

extern "C" __attribute__((noinline, used)) void bpfleet_usdt_target(int value) {
    // The agent's own USDT probe (provider "bpfleet", name "trigger"): the
    // default target of usdt programs whose section names none.
    STAP_PROBE1(bpfleet, trigger, value);
}

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

} // namespace bpfleet::bpf
