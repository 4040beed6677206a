#include "common/arch.hpp"

#include <sys/utsname.h>

namespace bpfleet {
namespace {

struct ArchRow {
    ArchNames names;
    // Other spellings: uname -m variants, Debian names, OCI "arch/variant".
    std::string_view aliases[6];
};

// First column: the agent's (uname -m) name; the OCI names are Go's GOARCH.
// 32-bit ARM: an armhf (ARMv7 hard-float) agent also runs where the kernel
// says armv8l (32-bit userland on a 64-bit CPU); ARMv6 is a different target.
constexpr ArchRow kArches[] = {
    {{"x86_64", "amd64", ""}, {"amd64", "x86-64"}},
    {{"aarch64", "arm64", ""}, {"arm64", "arm64/v8"}},
    {{"armv7l", "arm", "v7"}, {"arm", "arm/v7", "armv7", "armhf", "armv8l", "arm/v8"}},
    {{"armv6l", "arm", "v6"}, {"arm/v6", "armv6", "armel"}},
    {{"i686", "386", ""}, {"386", "i386", "i486", "i586", "x86"}},
    {{"ppc64le", "ppc64le", ""}, {"ppc64el"}},
    {{"s390x", "s390x", ""}, {}},
    {{"riscv64", "riscv64", ""}, {}},
    {{"mips64", "mips64", ""}, {}},
    {{"mips64el", "mips64le", ""}, {"mips64le"}},
    {{"loongarch64", "loong64", ""}, {"loong64"}},
};

} // namespace

std::optional<ArchNames> find_arch(std::string_view name) {
    if (name.empty()) {
        return std::nullopt;
    }
    for (const auto& row : kArches) {
        if (name == row.names.agent) {
            return row.names;
        }
        for (std::string_view alias : row.aliases) {
            if (!alias.empty() && name == alias) {
                return row.names;
            }
        }
    }
    return std::nullopt;
}

std::string agent_arch_name(std::string_view name) {
    if (auto arch = find_arch(name)) {
        return std::string(arch->agent);
    }
    return std::string(name);
}

std::optional<std::string> oci_arch_name(std::string_view name) {
    if (auto arch = find_arch(name)) {
        return std::string(arch->oci);
    }
    return std::nullopt;
}

std::string_view compiled_arch() {
#if defined(__x86_64__)
    return "x86_64";
#elif defined(__aarch64__)
    return "aarch64";
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7
    return "armv7l";
#elif defined(__arm__)
    return "armv6l";
#elif defined(__i386__)
    return "i686";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "ppc64le";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#elif defined(__loongarch64)
    return "loongarch64";
#else
    return "unknown";
#endif
}

std::string machine_arch() {
    utsname u{};
    if (uname(&u) != 0) {
        return std::string(compiled_arch());
    }
    return agent_arch_name(u.machine);
}

} // namespace bpfleet
