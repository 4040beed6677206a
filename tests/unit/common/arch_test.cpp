// The one architecture table: every spelling a host, an image or a user may
// give lands on the same agent and OCI names.
#include "common/arch.hpp"

#include <gtest/gtest.h>
#include <sys/utsname.h>

namespace bpfleet {
namespace {

TEST(Arch, UnameOciAndDebianSpellingsAgree) {
    for (const char* name : {"x86_64", "amd64"}) {
        auto a = find_arch(name);
        ASSERT_TRUE(a) << name;
        EXPECT_EQ(a->agent, "x86_64");
        EXPECT_EQ(a->oci, "amd64");
        EXPECT_EQ(a->variant, "");
    }
    for (const char* name : {"aarch64", "arm64", "arm64/v8"}) {
        auto a = find_arch(name);
        ASSERT_TRUE(a) << name;
        EXPECT_EQ(a->agent, "aarch64");
        EXPECT_EQ(a->oci, "arm64");
    }
    for (const char* name : {"armv7l", "arm", "arm/v7", "armhf", "armv7", "armv8l"}) {
        auto a = find_arch(name);
        ASSERT_TRUE(a) << name;
        EXPECT_EQ(a->agent, "armv7l") << name;
        EXPECT_EQ(a->oci, "arm") << name;
        EXPECT_EQ(a->variant, "v7") << name;
    }
}

TEST(Arch, Armv6IsNotTheArmhfAgent) {
    auto a = find_arch("armv6l");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->agent, "armv6l");
    EXPECT_EQ(a->oci, "arm");
    EXPECT_EQ(a->variant, "v6");
}

TEST(Arch, AgentNamePassesUnknownNamesThrough) {
    EXPECT_EQ(agent_arch_name("arm64"), "aarch64");
    EXPECT_EQ(agent_arch_name("amd64"), "x86_64");
    EXPECT_EQ(agent_arch_name("armhf"), "armv7l");
    EXPECT_EQ(agent_arch_name("x86_64"), "x86_64");
    EXPECT_EQ(agent_arch_name("vax"), "vax");
    EXPECT_EQ(agent_arch_name(""), "");
}

TEST(Arch, OciNamesAndUnknowns) {
    EXPECT_EQ(oci_arch_name("x86_64"), "amd64");
    EXPECT_EQ(oci_arch_name("aarch64"), "arm64");
    EXPECT_EQ(oci_arch_name("armv7l"), "arm");
    EXPECT_EQ(oci_arch_name("i686"), "386");
    EXPECT_EQ(oci_arch_name("mips64el"), "mips64le");
    EXPECT_EQ(oci_arch_name("loongarch64"), "loong64");
    EXPECT_EQ(oci_arch_name("ppc64le"), "ppc64le");
    EXPECT_FALSE(oci_arch_name("vax"));
    EXPECT_FALSE(oci_arch_name(""));
    EXPECT_FALSE(oci_arch_name("AMD64")) << "names are case-sensitive, as in OCI";
}

TEST(Arch, ThisMachine) {
    utsname u{};
    ASSERT_EQ(uname(&u), 0);
    EXPECT_EQ(machine_arch(), agent_arch_name(u.machine));
    // The tests run on the machine they were built for.
    EXPECT_EQ(compiled_arch(), machine_arch());
}

} // namespace
} // namespace bpfleet
