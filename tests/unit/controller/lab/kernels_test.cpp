// lab/kernels: the table of lab kernels and --kernels lists.
#include "lab/kernels.hpp"

#include <gtest/gtest.h>
#include <set>

using namespace bpfleet::lab;

TEST(LabKernels, EveryNameIsUniqueAndNamesItsArchitecture) {
    std::set<std::string_view> names;
    for (const auto& k : lab_kernels()) {
        EXPECT_TRUE(names.insert(k.name).second) << k.name;
        EXPECT_NE(k.name.find(k.debian_arch), std::string_view::npos) << k.name;
        EXPECT_EQ(k.name.substr(0, k.series.size()), k.series) << k.name;
    }
    // The matrix the lab exists for: three amd64 series, two arm64, one armhf.
    EXPECT_EQ(names.size(), 6u);
    ASSERT_NE(find_lab_kernel("6.1-armhf"), nullptr);
    EXPECT_EQ(find_lab_kernel("6.1-armhf")->uname_arch, "armv7l");
    EXPECT_EQ(find_lab_kernel("5.10-arm64")->qemu, "qemu-system-aarch64");
    EXPECT_EQ(find_lab_kernel("4.19-amd64"), nullptr);
}

TEST(LabKernels, ListsAreParsedInOrderOnce) {
    auto all = parse_kernel_list("");
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), lab_kernels().size());
    auto some = parse_kernel_list("6.1-armhf, 5.10-amd64,6.1-armhf");
    ASSERT_TRUE(some) << some.error().describe();
    ASSERT_EQ(some->size(), 2u);
    EXPECT_EQ((*some)[0]->name, "6.1-armhf");
    EXPECT_EQ((*some)[1]->name, "5.10-amd64");
    EXPECT_EQ(vm_name(*(*some)[0]), "lab-6.1-armhf");
}

TEST(LabKernels, AnUnknownNameIsAUsageErrorThatListsTheKnownOnes) {
    auto bad = parse_kernel_list("6.1-amd64,4.19-amd64");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "usage");
    EXPECT_NE(bad.error().message.find("'4.19-amd64'"), std::string::npos);
    EXPECT_NE(bad.error().message.find("6.12-amd64"), std::string::npos);
    EXPECT_EQ(bad.error().context, "--kernels");
}
