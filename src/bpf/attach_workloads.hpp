// The triggers of attach checks: small, bounded workloads that make an
// attached program run (syscalls, packets on the sandbox's lo, a TCP
// connection, CPU time), and the agent's own uprobe and USDT targets
// (declared in attach.hpp). None blocks for more than ~200 ms at a time, even
// when the programs under test drop or refuse the packets. Used by
// attachers.cpp; single-threaded.
#pragma once

#include "common/fd.hpp"

namespace bpfleet::bpf {

// getpid/getppid, open/read/write, nanosleep, sched_yield, a socket, and a
// child that forks and exits.
void syscall_workload();

// UDP to itself on lo, a TCP connection on lo, socket options, a sysctl read
// and a device open: what network-side and cgroup programs see.
void network_workload();

// The network workload seen by a hash-fanout packet socket on lo, so that the
// flow dissector runs for every packet.
void flow_dissector_workload();

// 20 ms of CPU work.
void cpu_workload();

struct TcpPair {
    Fd listener;
    Fd client;
    Fd server; // -1 when the connection did not complete in time
};

// A TCP connection to a listener on 127.0.0.1, made without ever blocking for
// more than ~200 ms: the programs under test may drop or refuse the packets.
TcpPair tcp_pair_on_lo();

} // namespace bpfleet::bpf
