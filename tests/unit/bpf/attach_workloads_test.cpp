// The attach triggers that need no privileges (src/bpf/attach_workloads.cpp):
// a TCP pair on lo that carries data, and workloads that return promptly.
#include "bpf/attach_workloads.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bpfleet::bpf {
namespace {

TEST(AttachWorkloads, TcpPairOnLoCarriesData) {
    TcpPair pair = tcp_pair_on_lo();
    ASSERT_GE(pair.listener.get(), 0);
    ASSERT_GE(pair.client.get(), 0);
    ASSERT_GE(pair.server.get(), 0);
    ASSERT_EQ(send(pair.client.get(), "bpfleet", 7, MSG_NOSIGNAL), 7);
    char buf[16] = {};
    ssize_t n = -1;
    for (int i = 0; i < 100 && n < 0; ++i) { // the server socket is non-blocking
        n = recv(pair.server.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            ::usleep(10'000);
        }
    }
    ASSERT_EQ(n, 7);
    EXPECT_EQ(std::string(buf, 7), "bpfleet");
}

TEST(AttachWorkloads, WorkloadsReturnPromptly) {
    const auto start = std::chrono::steady_clock::now();
    syscall_workload();
    network_workload();
    flow_dissector_workload(); // without CAP_NET_RAW the packet socket is simply not made
    cpu_workload();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

} // namespace
} // namespace bpfleet::bpf
