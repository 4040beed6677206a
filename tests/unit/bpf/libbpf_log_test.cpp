// libbpf's lines as bpfleet keeps them: errors libbpf has no text for named.

#include "bpf/libbpf_log.hpp"

#include <gtest/gtest.h>

namespace bpfleet::bpf {
namespace {

// What libbpf 1.1 printed for a kprobe_multi attach on a 5.10 kernel.
TEST(LibbpfLog, Errno524IsNamedENOTSUPP) {
    EXPECT_EQ(readable_libbpf_line("prog 'k': failed to attach: ERROR: strerror_r(-524)=22"),
              "prog 'k': failed to attach: ENOTSUPP (the kernel's internal \"not supported\")");
    EXPECT_EQ(readable_libbpf_line("x ERROR: strerror_r(-4095)=22 y"), "x E4095 y");
}

TEST(LibbpfLog, OtherLinesAreUnchanged) {
    for (const char* line :
         {"prog 'p': failed to attach: Operation not supported", "ERROR: strerror_r(",
          "ERROR: strerror_r(-)=22", "ERROR: strerror_r(-12x)=22", ""}) {
        EXPECT_EQ(readable_libbpf_line(line), line);
    }
}

} // namespace
} // namespace bpfleet::bpf
